"""The session under device and disk trouble: it always reaches an end, tells the citizen,
alerts staff where it should, and wipes personal data. (Found by review; each test failed
before its fix.)"""

from __future__ import annotations

import json
import threading

from devices.printer.fake import FakePrinter
from devices.printer.protocol import PrintFailure, PrintResult, Receipt
from devices.printer.simulator import SimulatedPrinter
from devices.status import DeviceState, DeviceStatus
from kiosk.config.catalogue import Intent
from kiosk.config.settings import Timings
from kiosk.session import State
from tests.flows import identify, load_item, open_door_7, to_confirm_receipt
from tests.waits import wait_until


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
    assert s.state is State.DONE  # the citizen is not held by a full disk
    # Not recorded without its event: the door intent stays open for the locker watch,
    # which records it, with its one event, once the outbox takes it.
    assert len(rig.inventory.unresolved()) == 1
    assert rig.inventory.item(7) is not None
    s.finish()
    rig.sink.fail = False
    from kiosk.locker.reconcile import reconcile

    (found,) = reconcile(rig.inventory, rig.locker.door_states(), sink=rig.sink,
                         audit=rig.audit, terminal_id="T", now=rig.clock.wall())
    assert found.outcome == "collected" and rig.inventory.item(7) is None
    assert [k for k, _, _ in rig.sink.envelopes].count("locker.collected") == 1


class HangingPrinter(FakePrinter):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        self.calls += 1
        self.release.wait(10)
        return super().print_receipt(receipt)


class BrokenPrinter(FakePrinter):
    def print_receipt(self, receipt: Receipt) -> PrintResult:
        raise RuntimeError("driver bug")


def submit_receipt_application(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_receipt(rig, citizen)
    s.confirm()
    return s


def test_hanging_printer_times_out_and_the_session_moves_on(rig, citizen):  # type: ignore[no-untyped-def]
    printer = HangingPrinter()
    rig.refit("printer", printer)
    rig.session.d.timings = Timings(print_timeout_s=0.2, idle_before_countdown_s=30)
    try:
        s = submit_receipt_application(rig, citizen)
        v = s.view()
        assert v.state is State.DONE and v.outcome.printed is False
        assert v.notice.key == "print_failed" and len(rig.sink.envelopes) == 1
        # The printer is hung (offline, not answering): "print again" is not offered, and
        # asking anyway starts no second job behind the stuck one.
        assert not v.can_reprint
        s.reprint()
        assert s.view().outcome.printed is False and printer.calls == 1
        s.call_staff()
        assert s.view().staff_called
    finally:
        printer.release.set()


def test_printer_driver_raising_is_a_failed_print_not_a_stuck_session(rig, citizen):  # type: ignore[no-untyped-def]
    rig.refit("printer", BrokenPrinter())
    s = submit_receipt_application(rig, citizen)
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



def test_full_disk_for_the_audit_log_still_ends_and_wipes_the_session(rig, citizen):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from kiosk.records.audit import AuditLog

    rig.session.d.audit = AuditLog(Path("/dev/full"), rig.clock)  # every write: ENOSPC
    s = to_confirm_receipt(rig, citizen)
    s.confirm()
    assert s.state is State.DONE
    s.call_staff()
    assert "staff.call" in kinds(rig)
    rig.tick(31)
    rig.tick(21)  # the inactivity countdown runs out
    assert s.state is State.GOODBYE and s.identity is None and s.view().masked_name is None


def test_device_call_workers_keep_no_personal_data(rig, citizen):  # type: ignore[no-untyped-def]
    import gc

    s = to_confirm_receipt(rig, citizen)
    s.back()
    s.back()
    s.back()  # home -> goodbye: wiped
    assert s.identity is None
    gc.collect()
    holders = [o for o in gc.get_referrers(citizen) if not isinstance(o, type(gc))]
    names = {type(o).__name__ for o in holders}
    assert "_Job" not in names and "ReadResult" not in names, names


def test_slow_locker_board_is_watched_not_reported_as_a_failed_door(rig, citizen):  # type: ignore[no-untyped-def]
    import threading as _threading


    opened = _threading.Event()
    real_open = rig.locker.open_door

    def slow_open(door: int):  # type: ignore[no-untyped-def]
        opened.wait(5)
        return real_open(door)

    rig.locker.open_door = slow_open
    rig.session.d.timings = Timings(device_call_timeout_s=0.1, idle_before_countdown_s=30)
    load_item(rig, 7, citizen, "执照", "Licence")
    rig.locker.load(7)
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert s.state is State.HANDOVER and s.view().notice is None  # not "the door failed"
    opened.set()  # the board answers late: the door opens after all
    # Its worker takes the late answer and looks at the board again on its own thread.
    locker = s.d.devices.locker
    wait_until(lambda: locker.report().status.state is DeviceState.READY)
    rig.tick()
    rig.locker.citizen_takes_item_and_closes(7)
    rig.tick()
    assert s.state is State.DONE and rig.inventory.items() == []


def test_a_step_that_raises_ends_like_one_that_overran(rig, citizen):  # type: ignore[no-untyped-def]
    class BrokenDirectory:
        def applications_for(self, citizen_hash: str) -> None:
            raise RuntimeError("client bug")

    rig.session.d.directory = BrokenDirectory()
    s = rig.session
    s.touch()
    s.choose_intent(Intent.QUERY)
    rig.reader.present(citizen)
    rig.tick()
    v = s.view()
    assert v.state is State.DONE and v.outcome.applications is None  # "cannot ask now"
    s.finish()
    assert s.state is State.GOODBYE


def test_a_step_that_never_answers_is_given_up_at_its_limit(rig, citizen):  # type: ignore[no-untyped-def]
    from kiosk.session.steps import ThreadedSteps

    release = threading.Event()

    class SlowDirectory:
        def applications_for(self, citizen_hash: str) -> list[dict[str, str]]:
            release.wait(10)
            return [{"tracking_no": "T-1", "service_id": "household_proof",
                     "status": "completed"}]

    rig.session.d.directory = SlowDirectory()
    rig.session.d.steps = ThreadedSteps()
    s = rig.session
    try:
        s.touch()
        s.choose_intent(Intent.QUERY)
        rig.reader.present(citizen)
        rig.tick()  # the read runs on its own thread now: wait for it to hand back
        wait_until(lambda: s.view().notice is not None and s.view().notice.key == "querying")
        rig.clock.advance(s.d.timings.backoffice_timeout_s + s.d.timings.step_grace_s + 1)
        s.tick()
        assert s.state is State.DONE and s.view().outcome.applications is None
    finally:
        release.set()
    # the late answer is dropped: what the citizen was told stays
    rig.clock.advance(0)
    assert s.view().outcome.applications is None
