"""The A4 certificate printer's CUPS adapter against a real cupsd with a virtual printer
(tests/cups_peer.py): what comes out is read back from the printer's side (pypdf, the QR
decoded), and each trouble a printer reports through CUPS ends in its state. A job that did
not print is purged, so it never comes out when the tray is refilled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devices.certificate_printer.cups.peer import CupsPeer
from devices.certificate_printer.cups.printer import CupsCertificatePrinter
from devices.certificate_printer.cups.status import QueueState
from devices.certificate_printer.protocol import CertificateDocument
from devices.printer.protocol import PrintFailure
from devices.status import DeviceState, LinkReason
from kiosk.session.steps.certificate_pdf import render_certificate
from tests.cups_peer import QUEUE, cups, read_back

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent
__all__ = ["cups"]  # the fixture

CERT = {"serial": "HP2026000042", "verification_code": "K7Q2M9XA", "title_zh": "户籍证明",
        "title_en": "Household registration proof", "issuer": "上海市公安局浦东分局",
        "holder": "张*", "district": "浦东新区", "issued_at": 1.796e9}
DOCUMENT = CertificateDocument("HP2026000042", "户籍证明",
                               render_certificate(CERT, "http://bo.test"))


def printer(peer: CupsPeer, job_timeout_s: float = 5.0) -> CupsCertificatePrinter:
    return CupsCertificatePrinter(QUEUE, server=peer.socket, job_timeout_s=job_timeout_s)


def test_a_certificate_prints_through_cups_and_reads_back(cups: CupsPeer) -> None:
    a4 = printer(cups)
    assert a4.status().state is DeviceState.READY
    result = a4.print_certificate(DOCUMENT)
    assert result.ok, result.detail
    (paper,) = cups.printed
    text, qr = read_back(paper)
    assert "户籍证明" in text and "HP2026000042" in text and "张*" in text
    assert qr == "http://bo.test/v1/verify/HP2026000042?code=K7Q2M9XA"


def test_nothing_of_a_job_stays_in_cups_and_its_title_is_the_serial(cups: CupsPeer) -> None:
    assert printer(cups).print_certificate(DOCUMENT).ok
    assert cups.jobs() == {} and cups.spool() == []  # purged: no PDF left in the spool
    log = (cups.root / "log/page_log")
    assert "张" not in (log.read_text(encoding="utf-8", errors="replace")
                        if log.exists() else "")


def test_paper_out_before_a_job_is_a_fault_and_the_job_never_prints_later(
        cups: CupsPeer) -> None:
    a4 = printer(cups)
    cups.set("out")
    result = a4.print_certificate(DOCUMENT)
    assert result.failure is PrintFailure.PAPER_OUT
    status = a4.status()
    assert (status.state, status.reason) == (DeviceState.FAULT, "paper_out")
    assert a4.print_certificate(DOCUMENT).failure is PrintFailure.PAPER_OUT  # refused at once
    cups.set("ok")
    after = a4.paper_replaced()  # the technician refills the tray
    assert after.usable and cups.printed == [] and cups.jobs() == {}


def test_paper_out_in_the_middle_of_a_job_is_never_printed_after_the_tray_is_refilled(
        cups: CupsPeer) -> None:
    a4 = printer(cups)
    cups.set("runs_out")
    assert a4.print_certificate(DOCUMENT).failure is PrintFailure.PAPER_OUT
    assert list(cups.out_dir.glob("job-*.partial"))  # the printer had taken it
    cups.set("ok")
    a4.paper_replaced()
    assert cups.printed == [] and cups.jobs() == {}
    assert a4.print_certificate(DOCUMENT).ok and len(cups.printed) == 1  # a reprint, once


def test_cover_open_is_a_fault_with_its_reason(cups: CupsPeer) -> None:
    a4 = printer(cups)
    cups.set("cover_open")
    assert a4.print_certificate(DOCUMENT).failure is PrintFailure.COVER_OPEN
    status = a4.status()
    assert (status.state, status.reason) == (DeviceState.FAULT, "cover_open")
    assert "front cover open" in status.message  # what the printer said, for the technician


def test_a_silent_printer_is_offline_not_ready_until_a_technician_starts_it(
        cups: CupsPeer) -> None:
    a4 = printer(cups, job_timeout_s=1.0)
    cups.set("silent")
    result = a4.print_certificate(DOCUMENT)
    assert result.failure is PrintFailure.OFFLINE and "did not finish" in result.detail
    status = a4.status()  # also for every other process: the queue says so
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert cups.jobs() == {}  # the swallowed job is gone, not waiting to come out
    cups.set("ok")
    assert a4.paper_replaced().state is DeviceState.READY
    assert cups.printed == []


def test_paper_low_is_degraded_and_still_prints(cups: CupsPeer) -> None:
    a4 = printer(cups)
    cups.set("low")
    assert a4.print_certificate(DOCUMENT).ok
    status = a4.status()
    assert (status.state, status.reason) == (DeviceState.DEGRADED, "paper_low")


def test_cups_gone_is_offline_and_it_comes_back(cups: CupsPeer) -> None:
    a4 = printer(cups)
    cups.stop()
    status = a4.status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert "CUPS does not answer" in status.message
    assert a4.print_certificate(DOCUMENT).failure is PrintFailure.OFFLINE
    cups.start()
    assert a4.status().state is DeviceState.READY


def test_a_queue_that_does_not_exist_is_not_connected(cups: CupsPeer) -> None:
    status = CupsCertificatePrinter("no-such-queue", server=cups.socket).status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
    assert "no such queue" in status.message


@pytest.mark.parametrize(("attrs", "state", "reason"), [
    ({"printer-state": 3, "printer-state-reasons": ["none"],
      "printer-is-accepting-jobs": True}, DeviceState.READY, ""),
    ({"printer-state": 4, "printer-state-reasons": ["none"],
      "printer-is-accepting-jobs": True}, DeviceState.BUSY, ""),
    ({"printer-state": 5, "printer-state-reasons": ["media-empty-error", "paused"],
      "printer-is-accepting-jobs": True}, DeviceState.FAULT, "paper_out"),
    ({"printer-state": 5, "printer-state-reasons": ["paused"],
      "printer-is-accepting-jobs": True}, DeviceState.FAULT, "queue_stopped"),
    ({"printer-state": 3, "printer-state-reasons": ["none"],
      "printer-is-accepting-jobs": False}, DeviceState.FAULT, "queue_stopped"),
    ({"printer-state": 4, "printer-state-reasons": ["media-jam-error"],
      "printer-is-accepting-jobs": True}, DeviceState.FAULT, "paper_jam"),
    ({"printer-state": 4, "printer-state-reasons": ["offline-report"],
      "printer-is-accepting-jobs": True}, DeviceState.OFFLINE, "not_answering"),
    ({"printer-state": 3, "printer-state-reasons": ["toner-low-warning"],
      "printer-is-accepting-jobs": True}, DeviceState.DEGRADED, "toner_low"),
    ({"printer-state": 3, "printer-state-reasons": ["media-empty-error"],
      "printer-is-accepting-jobs": True}, DeviceState.DEGRADED, "paper_out"),
    ({}, DeviceState.FAULT, "queue_stopped"),  # an answer without a state is not "ready"
])
def test_what_cups_reports_is_the_device_state(attrs: dict[str, object], state: DeviceState,
                                               reason: str) -> None:
    status = QueueState.from_attributes(attrs).status()
    assert (status.state, status.reason) == (state, reason)


def _kiosk(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "device", *args,
                           "--config", str(profile)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_print_test_and_paper_replaced_for_the_a4_printer(cups: CupsPeer, tmp_path: Path) -> None:
    shipped = (ROOT / "kiosk/config/profiles/gov-hall.toml").read_text(encoding="utf-8")
    profile = tmp_path / "hall.toml"  # its locker board is absent: only the A4 one is opened
    profile.write_text(shipped.replace('queue = "certificates"',
                                       f'queue = "{QUEUE}"\nserver = "{cups.socket}"'),
                       encoding="utf-8")
    done = _kiosk(profile, "print-test", "certificate_printer")
    assert done.returncode == 0, done.stderr
    (paper,) = cups.printed
    text, _ = read_back(paper)
    assert "打印测试" in text and "SH-PD-0001" in text
    cups.set("out")
    done = _kiosk(profile, "print-test", "certificate_printer")
    assert (done.returncode, done.stderr.strip()) == (
        1, "print test: paper_out: the A4 tray is empty")
    still = _kiosk(profile, "paper-replaced", "certificate_printer")  # tray still empty...
    assert still.returncode == 0  # ...the queue is started: the next job tells
    assert "degraded" in still.stdout and "paper_out" in still.stdout
    cups.set("out")
    _kiosk(profile, "print-test", "certificate_printer")
    cups.set("ok")
    fixed = _kiosk(profile, "paper-replaced", "certificate_printer", "--json")
    answer = json.loads(fixed.stdout)
    assert fixed.returncode == 0 and answer["ok"] and answer["kind"] == "certificate_printer"
    assert len(cups.printed) == 1  # the refused test jobs never came out later


def test_paper_replaced_on_a_receipt_printer_still_empty_says_so(tmp_path: Path) -> None:
    from devices.printer.escpos.peer import EscposPeer

    peer = EscposPeer()
    try:
        shipped = (ROOT / "kiosk/config/profiles/gov-hall.toml").read_text(encoding="utf-8")
        profile = tmp_path / "hall.toml"
        profile.write_text(shipped.replace('host = "receipt-printer"',
                                           f'host = "127.0.0.1"\ntcp_port = {peer.port}'),
                           encoding="utf-8")
        peer.set(paper="out")
        done = _kiosk(profile, "paper-replaced")
        assert (done.returncode, done.stderr.strip()) == (
            1, "paper replaced: printer still cannot print: paper_out: the receipt roll is empty")
        peer.set(paper="ok")
        done = _kiosk(profile, "paper-replaced")
        assert (done.returncode, done.stdout.strip()) == (0, "paper replaced: printer ready")
    finally:
        peer.close()
