"""A citizen's receipt through the real ESC/POS adapter to its wire peer (loopback TCP), and
what the printer's real status does to a visit: paper out is said at the start (the service
is not offered), paper running out during the job ends in "did not print" and the job never
comes out later, a silent printer is offline for staff and never "paper OK"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.id_reader.protocol import Identity
from devices.links import TcpLink
from devices.printer.escpos.peer import EscposPeer
from devices.printer.escpos.printer import EscposPrinter
from devices.status import DeviceState, LinkReason
from kiosk.config.catalogue import Intent
from kiosk.session import State
from tests.enrol import enrol
from tests.flows import RECEIPT_SERVICE, to_confirm_receipt
from tests.waits import wait_until

pytestmark = pytest.mark.realstack


@pytest.fixture
def peer(rig: Any) -> Iterator[EscposPeer]:
    running = EscposPeer()
    rig.refit("printer", EscposPrinter(TcpLink(running.host, running.port),
                                       reply_timeout_s=0.3, job_timeout_s=3))
    yield running
    running.close()


def test_the_receipt_prints_through_the_real_adapter(rig: Any, peer: EscposPeer,
                                                     citizen: Identity) -> None:
    s = to_confirm_receipt(rig, citizen)
    s.confirm()
    assert s.state is State.DONE and s.view().outcome.printed
    tracking_no = s.view().outcome.tracking_no
    (receipt,) = peer.receipts
    assert receipt.cut and any(tracking_no in line for line in receipt.text)
    assert not any(citizen.id_number in line or citizen.name in line for line in receipt.text)


def test_paper_out_is_said_at_the_start_not_at_the_end(rig: Any, peer: EscposPeer) -> None:
    peer.set(paper="out")
    rig.health.refresh()
    s = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose(RECEIPT_SERVICE)
    assert s.state is State.CHOOSE and s.notice.key == "service_unavailable"
    assert dict(s.notice.params)["reason"] == "needs_printer"


def test_paper_running_out_during_the_job_is_a_failed_print_never_printed_later(
        rig: Any, peer: EscposPeer, citizen: Identity) -> None:
    s = to_confirm_receipt(rig, citizen)
    peer.set(paper_left_lines=1)
    s.confirm()
    assert s.state is State.DONE and s.notice.key == "print_failed"
    assert not s.view().outcome.printed and s.view().outcome.tracking_no  # kept on screen
    peer.set(paper="ok", paper_left_lines=None)  # staff replace the roll
    assert peer.receipts == []  # the half job was cleared from the printer, not printed


def test_a_silent_printer_is_offline_for_staff_never_paper_ok(rig: Any,
                                                             peer: EscposPeer) -> None:
    peer.set(silent=True)
    rig.health.refresh()
    status = rig.session.d.statuses()["printer"]
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert rig.session.availability()[RECEIPT_SERVICE] == "needs_printer"


def test_paper_low_and_out_reach_staff_through_the_outbox_and_so_does_the_fix(
        tmp_path: Path) -> None:
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.config.settings import Timings
    from kiosk.demo.peers import with_printer_peer
    from kiosk.session.steps import InlineSteps
    from kiosk.terminal import Terminal, TerminalOptions

    peer = EscposPeer()
    try:
        peer.set(paper="near_end")
        hall = without_maintenance(load_profile("gov-hall"))
        profile = with_printer_peer(with_simulated_devices(hall, instant=True), peer)
        terminal = Terminal(profile, TerminalOptions(
            data_dir=tmp_path, backoffice_url="http://127.0.0.1:9", timings=Timings.instant(),
            steps=InlineSteps(), **enrol(tmp_path)))
        printer = terminal.devices.printer
        assert printer is not None
        try:
            peer.set(paper="out")
            printer.refresh()
            peer.set(paper="out")  # the same trouble again: no second alert
            printer.refresh()
            peer.set(paper="ok")  # staff put in a new roll
            printer.refresh()
            # The worker tells its listener after it answered the refresh: wait for it.
            wait_until(lambda: len(terminal.outbox.list()) >= 3, 5, "the alerts queued")
            events = [(e.kind, json.loads(e.payload)) for e in terminal.outbox.list()]
        finally:
            terminal.stop()
    finally:
        peer.close()
    assert [(k, b.get("reason")) for k, b in events] == [
        ("staff.alert", "paper_low"), ("staff.alert", "paper_out"),
        ("staff.alert_cleared", "paper_out")]
    assert all(b["device"] == "printer" and b["terminal_id"] == "SH-PD-0001" for _, b in events)


def test_print_again_is_offered_only_once_the_printer_can_print(
        rig: Any, peer: EscposPeer, citizen: Identity) -> None:
    s = to_confirm_receipt(rig, citizen)
    peer.set(paper_left_lines=1)
    s.confirm()
    rig.health.refresh()
    assert s.view().notice.key == "print_failed" and not s.view().can_reprint  # paper out
    s.reprint()
    assert peer.receipts == [] and not s.view().outcome.printed
    peer.set(paper="ok", paper_left_lines=None)  # a new roll
    rig.health.refresh()
    assert s.view().can_reprint
    s.reprint()
    assert s.view().outcome.printed and len(peer.receipts) == 1
    assert any(s.view().outcome.tracking_no in line for line in peer.receipts[0].text)


def test_an_interrupted_receipt_is_offered_again_only_once(
        rig: Any, peer: EscposPeer, citizen: Identity) -> None:
    s = to_confirm_receipt(rig, citizen)
    peer.set(paper_left_lines=1)
    s.confirm()
    peer.set(paper="ok", paper_left_lines=1)  # a roll that runs out again at once
    rig.health.refresh()
    s.reprint()  # the one reprint: interrupted too
    assert s.view().notice.key == "print_failed" and not s.view().outcome.printed
    peer.set(paper="ok", paper_left_lines=None)
    rig.health.refresh()
    assert not s.view().can_reprint  # offered once, never a third time
    s.reprint()
    assert peer.receipts == []


def test_a_receipt_left_behind_is_never_printed_for_the_next_citizen(
        rig: Any, peer: EscposPeer, citizen: Identity) -> None:
    s = to_confirm_receipt(rig, citizen)
    peer.set(paper_left_lines=1)
    s.confirm()
    tracking_no = s.view().outcome.tracking_no
    s.finish()  # the citizen leaves without it
    assert rig.session.d.journal.state(tracking_no) == "abandoned"
    told = [json.loads(p) for kind, p, _ in rig.sink.envelopes
            if kind == "staff.receipt_not_printed"]
    assert [t["tracking_no"] for t in told] == [tracking_no]
    assert any(e["event"] == "receipt_abandoned" for e in rig.audit.recent)
    peer.set(paper="ok", paper_left_lines=None)  # staff replace the roll
    rig.health.refresh()
    rig.reader.remove_card()  # the citizen takes their card
    rig.tick()
    rig.tick(rig.session.d.timings.goodbye_s + 1)
    s = to_confirm_receipt(rig, citizen)  # the next citizen
    s.confirm()
    assert [r for r in peer.receipts if any(tracking_no in line for line in r.text)] == []
    assert len(peer.receipts) == 1  # only the new citizen's own receipt


def test_a_receipt_or_certificate_printing_when_the_terminal_stopped_is_abandoned_at_start(
        tmp_path: Path) -> None:
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.config.settings import Timings
    from kiosk.records.print_journal import PrintJournal
    from kiosk.session.steps import InlineSteps
    from kiosk.terminal import Terminal, TerminalOptions

    journal = PrintJournal(tmp_path / "print-journal.db")
    journal.begin("SH-PD-0001-20261201-DEADBEEF", 1.0)  # the power went, mid-job
    journal.begin("HP2026000007", 1.0, "certificate")  # and on the A4 printer
    journal.close()
    hall = without_maintenance(load_profile("gov-hall"))
    terminal = Terminal(with_simulated_devices(hall, instant=True),
                        TerminalOptions(data_dir=tmp_path, backoffice_url="http://127.0.0.1:9",
                                        timings=Timings.instant(), steps=InlineSteps(),
                                        **enrol(tmp_path)))
    try:
        terminal.start()
        terminal.sync.stop()
        told = [json.loads(e.payload) for e in terminal.outbox.list()
                if e.kind == "staff.receipt_not_printed"]
        assert [t["tracking_no"] for t in told] == ["SH-PD-0001-20261201-DEADBEEF"]
        (certificate,) = [json.loads(e.payload) for e in terminal.outbox.list()
                          if e.kind == "staff.certificate_not_printed"]
        assert certificate["serial"] == "HP2026000007"
        assert terminal.journal.state("HP2026000007") == "abandoned"
        assert terminal.journal.state("SH-PD-0001-20261201-DEADBEEF") == "abandoned"
        assert not terminal.journal.may_reprint("SH-PD-0001-20261201-DEADBEEF")
    finally:
        terminal.stop()
