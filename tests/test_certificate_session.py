"""A certificate issued on the spot, in the citizen's session: the back office issues it (or
says why not), it is printed on A4, a failed print is offered again with the same serial
once the printer can print, and never issued twice. First with the in-memory stand-ins, then
through the reference back office and a real cupsd, read back from the printer's side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from devices.certificate_printer.cups.peer import CupsPeer
from devices.certificate_printer.cups.printer import CupsCertificatePrinter
from devices.id_reader.protocol import Identity
from devices.printer.protocol import PrintFailure
from devices.status import DeviceStatus
from kiosk.config.catalogue import Intent
from kiosk.demo.seed import register_demo_residents
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.session import State
from tests.cups_peer import QUEUE, cups, read_back
from tests.flows import to_confirm_household_proof

__all__ = ["cups"]  # the fixture


def events(rig: Any, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p) for k, p, _ in rig.sink.envelopes if k == kind]


def test_not_eligible_is_said_with_the_reason_and_nothing_prints(rig: Any,
                                                                 citizen: Identity) -> None:
    rig.certificates.not_eligible = "not_on_register"
    s = to_confirm_household_proof(rig, citizen)
    s.confirm()
    v = s.view()
    assert v.state is State.DONE and v.notice.key == "certificate_not_eligible"
    assert v.notice.param("why") == "not_on_register" and v.outcome.serial_no is None
    assert rig.certificate_printer.printed == [] and rig.sink.envelopes == []


def test_an_unreachable_back_office_issues_nothing_and_asking_again_is_the_same_request(
        rig: Any, citizen: Identity) -> None:
    rig.certificates.unreachable = True
    s = to_confirm_household_proof(rig, citizen)
    s.confirm()
    assert (s.state, s.notice.key) == (State.CONFIRM, "certificate_unavailable")
    assert rig.certificate_printer.printed == []
    rig.certificates.unreachable = False
    s.confirm()  # the citizen tries again: the same tracking number, so never two
    assert s.state is State.DONE and s.view().outcome.printed
    (tracking_no,) = rig.certificates.issued
    assert s.view().outcome.tracking_no == tracking_no


def test_a_failed_print_is_offered_again_once_the_printer_can_print_with_the_same_serial(
        rig: Any, citizen: Identity) -> None:
    s = to_confirm_household_proof(rig, citizen)
    rig.certificate_printer.fail_next(PrintFailure.PAPER_OUT)
    rig.certificate_printer.set_status(DeviceStatus.fault("paper_out", "the A4 tray is empty"))
    s.confirm()
    v = s.view()
    assert v.notice.key == "print_failed_certificate" and v.outcome.printed is False
    serial = v.outcome.serial_no
    assert serial and not v.can_reprint  # the tray is still empty
    rig.certificate_printer.set_status(DeviceStatus.ready())  # staff refill it
    rig.tick()
    assert s.view().can_reprint
    s.reprint()
    (document,) = rig.certificate_printer.printed
    assert document.serial_no == serial and len(rig.certificates.issued) == 1
    assert s.view().outcome.printed and not s.view().can_reprint
    assert [e["serial"] for e in events(rig, "certificate.printed")] == [serial]


def test_leaving_without_the_certificate_tells_staff_its_serial_only(
        rig: Any, citizen: Identity) -> None:
    s = to_confirm_household_proof(rig, citizen)
    rig.certificate_printer.fail_next(PrintFailure.COVER_OPEN)
    s.confirm()
    serial = s.view().outcome.serial_no
    s.finish()
    (told,) = events(rig, "staff.certificate_not_printed")
    assert told["serial"] == serial and citizen.id_number not in json.dumps(told)
    assert citizen.name not in json.dumps(told, ensure_ascii=False)
    assert s.certificate is None and s.identity is None  # the PDF left with the session
    assert events(rig, "certificate.printed") == []


@pytest.mark.parametrize(("kind", "status", "reason"), [
    ("certificate_printer", DeviceStatus.fault("paper_out", "empty"),
     "needs_certificate_printer"),
    ("certificate_printer", DeviceStatus.offline(), "needs_certificate_printer"),
])
def test_a_certificate_printer_that_cannot_print_is_said_at_the_start(
        rig: Any, kind: str, status: DeviceStatus, reason: str) -> None:
    rig.certificate_printer.set_status(status)
    rig.tick()
    s = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("household_proof")
    assert s.state is State.CHOOSE and s.notice.key == "service_unavailable"
    assert s.notice.param("reason") == reason


def test_offline_no_certificate_is_offered(rig: Any) -> None:
    rig.session.d.online = lambda: False
    assert rig.session.availability()["household_proof"] == "needs_network"
    assert rig.session.availability()["entry_exit_proof"] == "needs_network"


# ------------------------------------------------ the real back office and a real cupsd
@pytest.fixture
def real(rig: Any, cups: CupsPeer, tmp_path: Path) -> Iterator[tuple[Any, CupsPeer,
                                                                     RunningBackOffice]]:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    register_demo_residents(bo)
    rig.refit("certificate_printer",
              CupsCertificatePrinter(QUEUE, server=cups.socket, job_timeout_s=5))
    rig.session.d.certificates = BackOfficeClient(bo.url, token=bo.token)
    yield rig, cups, bo
    bo.stop()


@pytest.mark.realstack
@pytest.mark.parametrize(("service", "title", "issuer"), [
    ("household_proof", "户籍证明", "上海市公安局浦东分局"),
    ("entry_exit_proof", "出入境记录证明", "上海市公安局出入境管理局"),
])
def test_the_certificate_comes_out_of_cups_and_its_qr_code_verifies(
        real: tuple[Any, CupsPeer, RunningBackOffice], citizen: Identity, service: str,
        title: str, issuer: str) -> None:
    rig, cups, _ = real
    s = to_confirm_household_proof(rig, citizen, service)
    s.confirm()
    assert s.state is State.DONE and s.view().outcome.printed, s.notice
    serial = s.view().outcome.serial_no
    (paper,) = cups.printed
    text, qr = read_back(paper)
    for expected in (title, issuer, serial, "张*", "浦东新区"):
        assert expected in text, expected
    assert citizen.id_number not in text and citizen.name not in text
    checked = requests.get(qr, timeout=10).json()  # whoever holds the paper checks it
    assert checked["valid"] is True and checked["serial"] == serial
    assert cups.jobs() == {} and cups.spool() == []  # nothing of it left in CUPS


@pytest.mark.realstack
def test_paper_out_mid_certificate_is_printed_again_after_the_refill_with_the_same_serial(
        real: tuple[Any, CupsPeer, RunningBackOffice], citizen: Identity) -> None:
    rig, cups, bo = real
    s = to_confirm_household_proof(rig, citizen)
    cups.set("runs_out")
    s.confirm()
    v = s.view()
    assert v.notice.key == "print_failed_certificate" and not v.can_reprint
    cups.set("ok")
    CupsCertificatePrinter(QUEUE, server=cups.socket).paper_replaced()  # the technician
    rig.tick()
    assert s.view().can_reprint and cups.printed == []  # the half job did not come out
    s.reprint()
    (paper,) = cups.printed
    assert v.outcome.serial_no in read_back(paper)[0]
    assert bo.server.certificates.count() == 1  # printed twice is not issued twice


@pytest.mark.realstack
def test_not_on_the_register_is_not_eligible_through_the_real_back_office(
        real: tuple[Any, CupsPeer, RunningBackOffice], citizen: Identity) -> None:
    rig, cups, bo = real
    stranger = Identity(**{**citizen.__dict__, "id_number": "110101199003077774"})
    s = to_confirm_household_proof(rig, stranger)
    s.confirm()
    assert s.notice.key == "certificate_not_eligible"
    assert s.notice.param("why") == "not_on_register"
    assert cups.printed == [] and bo.server.certificates.count() == 0
