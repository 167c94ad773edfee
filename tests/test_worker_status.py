"""DeviceWorker with in-memory devices: the cached status and its age, polling at the
adapter's interval, one log line on failure and one on recovery, bugs as statuses."""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import time

from devices.printer.fake import FakePrinter
from devices.status import DeviceState, DeviceStatus, LinkReason
from devices.worker import CallProblem, DeviceWorker
from kiosk.config.settings import FakeClock


def test_status_is_cached_with_when_it_was_checked_and_since_when() -> None:
    clock, printer = FakeClock(), FakePrinter()
    worker = DeviceWorker("printer", "printer", printer, clock=clock.now)
    try:
        first = worker.refresh()
        assert first.status.state is DeviceState.READY and first.checked_at == clock.now()
        clock.advance(5)
        assert worker.report().age(clock.now()) == 5  # read from the cache: no call made
        worker.refresh()
        printer.set_status(DeviceStatus.fault("paper_out", "no paper"))
        clock.advance(1)
        out = worker.refresh()
        assert out.status.reason == "paper_out" and out.since == clock.now()
        clock.advance(3)
        still = worker.refresh()
        assert still.since == out.since and still.checked_at == clock.now()
    finally:
        worker.stop()


def test_worker_polls_at_the_adapters_interval() -> None:
    calls = []

    class Counting(FakePrinter):
        def status(self) -> DeviceStatus:
            calls.append(time.monotonic())
            return super().status()

    worker = DeviceWorker("printer", "printer", Counting(), poll_interval_s=0.05)
    worker.start()
    deadline = time.monotonic() + 10
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert len(calls) >= 4
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert min(gaps) >= 0.045  # not faster than declared


def test_failure_and_recovery_are_logged_once_each(caplog) -> None:  # type: ignore[no-untyped-def]
    printer = FakePrinter()
    changes = []
    worker = DeviceWorker("printer", "printer", printer,
                          on_change=lambda name, report: changes.append(report.status.state))
    caplog.set_level(logging.INFO, logger="devices.worker")
    try:
        worker.refresh()
        printer.set_status(DeviceStatus.fault("cover_open", "cover open"))
        for _ in range(5):
            worker.refresh()
        printer.set_status(DeviceStatus.ready())
        for _ in range(5):
            worker.refresh()
    finally:
        worker.stop()
    lines = [r.getMessage() for r in caplog.records]
    assert len([m for m in lines if "cover_open" in m]) == 1
    assert len([m for m in lines if "recovered" in m]) == 1
    assert changes == [DeviceState.FAULT, DeviceState.READY]


def test_an_adapter_that_raises_is_a_fault_and_a_failed_call() -> None:
    class Buggy(FakePrinter):
        def status(self) -> DeviceStatus:
            raise RuntimeError("driver bug")

    worker = DeviceWorker("printer", "printer", Buggy())
    try:
        status = worker.refresh().status
        assert status.state is DeviceState.FAULT and status.reason == LinkReason.ADAPTER_ERROR
        called = worker.call(lambda p: 1 / 0, 7)
        assert called.problem is CallProblem.ERROR and called.value == 7
    finally:
        worker.stop()


def test_a_hung_status_poll_is_noticed_by_whoever_reads_the_status() -> None:
    release = threading.Event()

    class Stuck(FakePrinter):
        def status(self) -> DeviceStatus:
            release.wait(10)
            return super().status()

    worker = DeviceWorker("printer", "printer", Stuck(), call_timeout_s=0.1,
                          poll_interval_s=60)
    worker.start()  # the first poll hangs; nobody waits on it
    try:
        deadline = time.monotonic() + 5
        while worker.report().status.reason != LinkReason.NOT_ANSWERING:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert worker.call(lambda p: p.status(), None).problem is CallProblem.STILL_HUNG
    finally:
        release.set()
        worker.stop()


def test_a_stopped_worker_answers_stopped_and_its_thread_ends() -> None:
    worker = DeviceWorker("printer", "printer", FakePrinter())
    assert worker.call(lambda p: 42, 0).value == 42
    thread = worker._thread
    assert thread is not None and worker.stop()
    assert not thread.is_alive()
    assert worker.call(lambda p: 42, 0).problem is CallProblem.STOPPED


def test_worker_keeps_no_result_after_handing_it_over() -> None:
    class Secret:
        pass

    worker = DeviceWorker("id_reader", "id_reader", FakePrinter())
    try:
        secret = worker.call(lambda p: Secret(), None).value
        gc.collect()
        holders = {type(o).__name__ for o in gc.get_referrers(secret)}
        assert "_Job" not in holders, holders
    finally:
        worker.stop()


def test_a_call_queued_behind_a_hung_poll_marks_the_device_hung_and_never_runs_late(
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    entered, release = threading.Event(), threading.Event()
    ran: list[int] = []

    class Stuck(FakePrinter):
        def status(self) -> DeviceStatus:
            entered.set()
            release.wait(10)
            return super().status()

    worker = DeviceWorker("printer", "printer", Stuck(), call_timeout_s=0.2,
                          poll_interval_s=60)
    caplog.set_level(logging.ERROR, logger="devices.worker")
    worker.start()
    assert entered.wait(5)  # the first poll is running, and nobody waits on it
    called = worker.call(lambda p: ran.append(1), None, timeout_s=0.5)
    try:
        assert called.problem in (CallProblem.TIMEOUT, CallProblem.STILL_HUNG)
        assert "status poll did not answer" in caplog.text
        assert worker.report().status.reason == LinkReason.NOT_ANSWERING
    finally:
        release.set()
    worker.refresh()  # the worker is free again: whatever it had queued has been dealt with
    assert ran == [] and worker.stop()


def test_a_call_given_up_as_hung_by_another_caller_is_a_timeout_when_collected_late() -> None:
    """Two readers asked at once, the second collected only after the first answered: its
    call, meanwhile noticed as hung (and its result dropped when it came), is a timeout with
    the default, never the dropped result (None)."""
    started, release = threading.Event(), threading.Event()

    def slow_read(printer: FakePrinter) -> str:
        started.set()
        release.wait(10)
        return "a document"

    worker = DeviceWorker("reader", "printer", FakePrinter(), call_timeout_s=0.05)
    worker.start()
    try:
        pending = worker.submit(slow_read, "nothing", what="read")
        assert started.wait(5)
        deadline = time.monotonic() + 5
        while worker.report().status.reason != LinkReason.NOT_ANSWERING:  # noticed as hung
            assert time.monotonic() < deadline
            time.sleep(0.02)
        release.set()  # it answers after all, late: the answer is dropped
        deadline = time.monotonic() + 5
        while worker.report().status.reason == LinkReason.NOT_ANSWERING:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        called = pending.wait()
        assert called.value == "nothing" and called.problem is CallProblem.TIMEOUT
    finally:
        release.set()
        worker.stop()
