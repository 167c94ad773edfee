"""The staff console of a whole terminal: each alert appears when its cause is there (the
receipt printer's wire peer put in that state, the outbox holding a parked envelope, a
compartment waiting for staff or overdue, the disk nearly full) and goes when it is gone; each
action only for a signed-in role that may do it, audited."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printer.escpos.peer import EscposPeer
from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
from kiosk.config.settings import FakeClock, Timings
from kiosk.demo.peers import with_printer_peer
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions
from tests.enrol import enrol

pytestmark = pytest.mark.realstack
PIN = "482915"


@pytest.fixture
def peer() -> Iterator[EscposPeer]:
    running = EscposPeer()
    yield running
    running.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start=time.time())


@pytest.fixture
def terminal(tmp_path: Path, peer: EscposPeer, clock: FakeClock) -> Iterator[Terminal]:
    hall = without_maintenance(load_profile("gov-hall"))
    profile = with_printer_peer(with_simulated_devices(hall, instant=True), peer)
    t = Terminal(profile, TerminalOptions(
        data_dir=tmp_path, backoffice_url="http://127.0.0.1:9", timings=Timings.instant(),
        steps=InlineSteps(), clock=clock, **enrol(tmp_path)))
    t.staff_pins.set_pin("T-07", "technician", PIN)
    t.staff_pins.set_pin("L-02", "locker_clerk", PIN)
    yield t
    t.stop()


def kinds(terminal: Terminal) -> dict[str, str]:
    return {a.kind: a.subject for a in terminal.console.alerts()}


def test_each_printer_state_is_an_alert_while_it_lasts(terminal: Terminal,
                                                       peer: EscposPeer) -> None:
    printer = terminal.devices.printer
    assert printer is not None
    printer.refresh()
    assert kinds(terminal) == {}
    for setting, kind in (({"paper": "near_end"}, "paper_low"), ({"paper": "out"}, "paper_out"),
                          ({"paper": "ok", "cover_open": True}, "cover_open"),
                          ({"cover_open": False, "silent": True}, "device_down")):
        peer.set(**setting)
        printer.refresh()
        assert kinds(terminal) == {kind: "printer"}, setting
    line = next(d for d in terminal.console.devices() if d.name == "printer")
    assert (line.state, line.reason) == ("offline", "not_answering")
    peer.set(silent=False)
    # Paper replaced (the printer asked again at once) needs a role that may replace paper.
    assert not terminal.console.paper_replaced("printer")  # nobody signed in
    assert terminal.staff.sign_in_pin("T-07", PIN).ok
    assert terminal.console.paper_replaced("printer")
    assert kinds(terminal) == {}


def test_parked_envelopes_are_an_alert_retried_by_a_technician(
        terminal: Terminal, tmp_path: Path) -> None:
    outbox = terminal.outbox
    outbox.enqueue("staff.call", b'{"terminal_id": "SH-PD-0001"}', "k-1")
    outbox.enqueue("staff.call", b'{"terminal_id": "SH-PD-0001"}', "k-2")
    [leased, _] = outbox.claim(2, 60)
    outbox.park(leased.id, "the back office refused it: 400")
    assert kinds(terminal)["parked"] == "1"
    assert terminal.staff.sign_in_pin("L-02", PIN).ok  # a locker clerk may not retry
    assert terminal.console.retry_parked() is None
    terminal.staff.sign_out()
    assert terminal.staff.sign_in_pin("T-07", PIN).ok
    [line] = terminal.console.parked()
    assert (line.kind, line.error) == ("staff.call", "the back office refused it: 400")
    assert terminal.console.retry(line.id)  # this one, due again now
    assert terminal.console.parked() == [] and "parked" not in kinds(terminal)
    outbox.park(leased.id, "refused again")
    assert terminal.console.retry_parked() == 1  # or every parked one at once
    assert terminal.console.force_sync()
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["event"], e["role"], e["what"]) for e in audit
            if e["event"].startswith("staff_action")] == [
        ("staff_action_refused", "locker_clerk", "retry_parked"),
        ("staff_action", "technician", "retry_envelope"),
        ("staff_action", "technician", "retry_parked"),
        ("staff_action", "technician", "force_sync")]


def test_compartments_waiting_or_overdue_and_a_full_disk_are_alerts(
        terminal: Terminal, clock: FakeClock) -> None:
    inventory = terminal.inventory
    inventory.load(3, "APP-3", "证", "Certificate", "110101198007140027",
                   now=clock.wall(), keep_s=60)
    assert "overdue" not in kinds(terminal)
    clock.advance(61)
    assert kinds(terminal)["overdue"] == "3"
    terminal.console._storage_free = lambda: 100 * 1024**2
    assert kinds(terminal)["disk_low"] == "100 MB"


def test_an_acknowledged_alert_stays_marked_until_its_cause_is_gone(
        terminal: Terminal, peer: EscposPeer) -> None:
    printer = terminal.devices.printer
    assert printer is not None
    peer.set(paper="near_end")
    printer.refresh()
    [alert] = terminal.console.alerts()
    assert not terminal.console.acknowledge(alert.key)  # nobody signed in
    terminal.staff.sign_in_pin("L-02", PIN)
    assert terminal.console.acknowledge(alert.key)
    assert [a.acknowledged for a in terminal.console.alerts()] == [True]
    peer.set(paper="ok")
    printer.refresh()
    assert terminal.console.alerts() == []
    peer.set(paper="near_end")  # low again: a new alert, not acknowledged
    printer.refresh()
    assert [a.acknowledged for a in terminal.console.alerts()] == [False]


def test_an_envelope_pending_too_long_is_an_alert(terminal: Terminal) -> None:
    from dataclasses import replace

    from kiosk.staff.console import OLDEST_PENDING_ALERT_S

    real = terminal.outbox
    terminal.outbox.enqueue("staff.call", b'{"terminal_id": "SH-PD-0001"}', "k-1")
    stats = real.stats()
    assert stats.oldest_pending_age_s is not None and "oldest_pending" not in kinds(terminal)

    class Aged:  # the same outbox, its oldest envelope older (the outbox keeps wall time)
        def stats(self) -> object:
            return replace(real.stats(), oldest_pending_age_s=OLDEST_PENDING_ALERT_S + 1)

    terminal.console._outbox = Aged()
    assert kinds(terminal)["oldest_pending"] == "1"
