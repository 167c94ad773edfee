"""The session under device and disk trouble: it always reaches an end, tells the citizen,
alerts staff where it should, and wipes personal data. (Found by review; each test failed
before its fix.)"""

from __future__ import annotations

import json
import threading

from devices.printer.fake import FakePrinter
from devices.printer.protocol import PrintFailure, PrintResult, Receipt
from devices.printer.simulator import SimulatedPrinter
from devices.status import DeviceStatus
from kiosk.session import State
from kiosk.settings import Timings
from tests.flows import open_door_7, to_confirm_household_proof


def kinds(rig) -> list[str]:  # type: ignore[no-untyped-def]
    return [e[0] for e in rig.sink.envelopes]


def test_door_left_open_alerts_staff_once_and_ends_the_session(rig, citizen):  # type: ignore[no-untyped-def]
    s = open_door_7(rig, citizen)
    rig.tick(60)
    assert s.state is State.HANDOVER and kinds(rig) == []
    rig.tick(61)  # past door_close_wait_s (120 s)
    assert s.state is State.GOODBYE and s.identity is None
    assert s.view().notice.key == "goodbye_door_left_open"
    for _ in range(5):
        rig.tick(1)
    assert kinds(rig) == ["locker.door_left_open"]
    alarms = [e for e in rig.audit.recent if e["event"] == "locker_door_left_open"]
    assert len(alarms) == 1


def test_silent_locker_board_cannot_hold_the_terminal(rig, citizen):  # type: ignore[no-untyped-def]
    s = open_door_7(rig, citizen)
    rig.locker.set_status(DeviceStatus.offline())  # door_state() now answers None
    rig.tick(121)
    assert s.state is State.GOODBYE and "locker.door_left_open" in kinds(rig)


def test_door_closed_with_the_certificate_inside_says_it_was_not_taken(rig, citizen):  # type: ignore[no-untyped-def]
    s = open_door_7(rig, citizen)
    rig.locker._open[6] = False  # closed again without taking the item
    rig.tick()
    v = s.view()
    assert v.state is State.DONE and v.notice.key == "item_not_taken"
    assert [i.door for i in rig.inventory.items()] == [7] and kinds(rig) == []


def test_slow_collection_is_not_signed_out_as_inactive(rig, citizen):  # type: ignore[no-untyped-def]
    s = open_door_7(rig, citizen)
    rig.tick(55)  # longer than idle_before_countdown + countdown would allow elsewhere
    rig.locker.citizen_takes_item_and_closes(7)
    rig.tick()
    rig.tick()
    assert s.state is State.DONE and s.view().countdown_s is None


def test_disk_full_when_the_door_closes_still_finishes(rig, citizen):  # type: ignore[no-untyped-def]
    s = open_door_7(rig, citizen)
    rig.sink.fail = True
    rig.locker.citizen_takes_item_and_closes(7)
    rig.tick()
    assert s.state is State.DONE
    rig.tick()
    rig.tick()
    assert [e["event"] for e in rig.audit.recent].count("locker_item_collected") == 1


class HangingPrinter(FakePrinter):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        self.release.wait(10)
        return super().print_receipt(receipt)


class BrokenPrinter(FakePrinter):
    def print_receipt(self, receipt: Receipt) -> PrintResult:
        raise RuntimeError("driver bug")


def submit_household_proof(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_household_proof(rig, citizen)
    s.confirm()
    return s


def test_hanging_printer_times_out_and_the_session_moves_on(rig, citizen):  # type: ignore[no-untyped-def]
    printer = HangingPrinter()
    rig.session.d.devices.printer = printer
    rig.session.d.timings = Timings(print_timeout_s=0.2, idle_before_countdown_s=30)
    try:
        s = submit_household_proof(rig, citizen)
        v = s.view()
        assert v.state is State.DONE and v.outcome.printed is False
        assert v.notice.key == "print_failed" and len(rig.sink.envelopes) == 1
        s.reprint()  # the stuck job still runs: no second thread is started behind it
        assert s.view().outcome.printed is False
        assert any(e.get("failure") == "still_hung" for e in rig.audit.recent)
        s.call_staff()
        assert s.view().staff_called
    finally:
        printer.release.set()


def test_printer_driver_raising_is_a_failed_print_not_a_stuck_session(rig, citizen):  # type: ignore[no-untyped-def]
    rig.session.d.devices.printer = BrokenPrinter()
    s = submit_household_proof(rig, citizen)
    assert s.state is State.DONE and s.view().outcome.printed is False
    s.finish()
    assert s.state is State.GOODBYE and s.identity is None


def test_staff_call_does_not_carry_into_the_next_session(rig):  # type: ignore[no-untyped-def]
    s = rig.session
    s.call_staff()  # pressed on the attract screen
    rig.tick(10)
    s.touch()
    assert not s.view().staff_called
    s.call_staff()
    assert kinds(rig) == ["staff.call", "staff.call"]
    assert json.loads(rig.sink.envelopes[1][1])["screen"] == "home"


def test_print_failures_keep_their_cause() -> None:
    fake = FakePrinter()
    fake.set_status(DeviceStatus.fault("paper_out", "no paper"))
    assert fake.print_receipt(Receipt("x")).failure is PrintFailure.PAPER_OUT
    sim = SimulatedPrinter()
    sim.set_status(DeviceStatus.fault("cover_open", "cover open"))
    assert sim.print_receipt(Receipt("x")).failure is PrintFailure.COVER_OPEN

