"""The session stays responsive while a device hangs: steps run off the session lock.

The printer here is a real adapter on a real pty (tests/echo_device.py) whose peer has gone
silent, and a card reader whose read never returns. Back, Home, Call staff, "more time" and the
countdown are each answered within 100 ms (against a printer that holds its job for seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from devices.id_reader.fake import FakeIdReader
from devices.id_reader.protocol import ReadResult
from devices.links import SerialLink
from devices.status import DeviceState, LinkReason
from kiosk.config.catalogue import Intent
from kiosk.config.settings import Timings
from kiosk.session import State
from kiosk.session.steps import ThreadedSteps
from tests.echo_device import EchoPeer, EchoPrinter
from tests.flows import to_confirm_receipt
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
ANSWER_S = 0.1


def answered_within(limit_s: float, intent: Callable[[], None]) -> float:
    started = time.monotonic()
    intent()
    took = time.monotonic() - started
    assert took < limit_s, f"{getattr(intent, '__name__', intent)} took {took:.3f} s"
    return took




@pytest.fixture
def peer() -> Iterator[EchoPeer]:
    p = EchoPeer()
    yield p
    p.close()


def test_hung_printer_leaves_back_home_staff_and_more_time_answered(rig, citizen, peer) -> None:  # type: ignore[no-untyped-def]
    # The adapter waits 5 s for an answer; the session gives a print 2 s.
    printer = EchoPrinter(SerialLink(peer.port, baudrate=115200), read_timeout_s=5.0)
    rig.refit("printer", printer, poll_interval_s=0.2)
    s = rig.session
    s.d.timings = Timings(print_timeout_s=2.0, idle_before_countdown_s=30, countdown_s=20)
    s = to_confirm_receipt(rig, citizen)  # inline steps so far: the walk there
    s.d.steps = ThreadedSteps()
    peer.silent.set()
    answered_within(ANSWER_S, s.confirm)
    assert s.state is State.HANDOVER  # the print is in flight on its own thread
    for intent in (s.call_staff, s.back, s.go_home, s.extend_time, s.tick):
        answered_within(ANSWER_S, intent)
    v = s.view()
    assert v.staff_called and v.state is State.HANDOVER
    assert [e[0] for e in rig.sink.envelopes] == ["application.submit", "staff.call"]
    # The print gives up at its deadline: the citizen is told, the device is offline.
    wait_until(lambda: s.state is State.DONE)
    assert s.view().outcome.printed is False and s.view().notice.key == "print_failed"
    report = s.d.devices.printer.report()
    assert report.status.state is DeviceState.OFFLINE
    assert report.status.reason == LinkReason.NOT_ANSWERING
    # The peer speaks again: the printer recovers without a restart, and prints.
    peer.silent.clear()
    wait_until(lambda: s.d.devices.printer.report().status.state is DeviceState.READY)
    s.reprint()
    wait_until(lambda: s.view().outcome.printed is True)


class ReaderThatNeverAnswers(FakeIdReader):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def read(self) -> ReadResult:
        self.release.wait(30)
        return super().read()


def test_countdown_ends_the_session_while_a_card_read_hangs(rig) -> None:  # type: ignore[no-untyped-def]
    reader = ReaderThatNeverAnswers()
    rig.refit("id_reader", reader)
    s = rig.session
    s.d.timings = Timings(device_call_timeout_s=20, idle_before_countdown_s=30, countdown_s=20)
    s.d.steps = ThreadedSteps()
    try:
        s.touch()
        s.choose_intent(Intent.APPLY)
        s.choose("household_proof")
        answered_within(ANSWER_S, s.tick)  # starts a read; it hangs on the reader's worker
        rig.clock.advance(31)
        answered_within(ANSWER_S, s.tick)
        assert s.view().countdown_s is not None
        rig.clock.advance(20)
        answered_within(ANSWER_S, s.tick)
        assert s.state is State.GOODBYE and s.identity is None
    finally:
        reader.release.set()
