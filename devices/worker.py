"""DeviceWorker: the only way to reach a fitted device.

One worker per device owns one thread, and every call to the device (session steps, status
polls, CLI, self-test) runs on it in turn, so two callers never interleave frames on one serial
line or card. Every call has a deadline. A call that runs past it turns the device `offline`
(`not_answering`, since then) and, while it is still stuck, later calls return their default at
once instead of queueing behind it. The worker caches the last status with its time, polls it at
the adapter's interval, refreshes on request, and logs once when the device fails and once when
it recovers (Home Assistant's coordinator).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from devices.status import DeviceState, DeviceStatus, LinkReason, StatusReport

log = logging.getLogger(__name__)
NOT_CHECKED = "not_checked"  # the reason before the device has answered at all
T = TypeVar("T")
D = TypeVar("D")


class HasStatus(Protocol):
    def status(self) -> DeviceStatus: ...


class CallProblem(StrEnum):
    TIMEOUT = "timeout"  # this call ran past its deadline
    STILL_HUNG = "still_hung"  # an earlier call is still stuck: this one was not started
    ERROR = "error"  # the adapter raised (a bug); logged with its traceback
    STOPPED = "stopped"  # the worker has been stopped


@dataclass(frozen=True)
class Called(Generic[T]):
    value: T
    problem: CallProblem | None = None


@dataclass(eq=False)
class _Job:
    fn: Callable[[Any], Any]
    what: str
    timeout_s: float
    is_status: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    value: Any = None
    error: BaseException | None = None
    abandoned: bool = False  # the caller gave up: drop the result (it may be personal data)


class PendingCall(Generic[T]):
    """A call handed to a worker; `wait()` collects it (so several devices can be asked at
    once and each answer read within its own deadline)."""

    def __init__(self, worker: DeviceWorker[Any], job: _Job | None, default: T,
                 problem: CallProblem | None = None) -> None:
        self._worker, self._job, self._default, self._problem = worker, job, default, problem

    def wait(self, timeout_s: float | None = None) -> Called[T]:
        if self._job is None:
            return Called(self._default, self._problem)
        job, self._job = self._job, None
        return self._worker._collect(job, self._default, timeout_s)


class DeviceWorker(Generic[D]):
    def __init__(
        self,
        name: str,
        kind: str,
        device: D,
        *,
        call_timeout_s: float = 3.0,
        poll_interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, StatusReport], None] | None = None,
    ) -> None:
        self.name, self.kind = name, kind
        self._device = device
        self.call_timeout_s = call_timeout_s
        self.poll_interval_s = poll_interval_s
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._running: _Job | None = None
        self._hung: _Job | None = None
        self._next_poll = 0.0
        self._stopped = False
        self._thread: threading.Thread | None = None
        now = clock()
        self._report = StatusReport(
            DeviceStatus(DeviceState.OFFLINE, NOT_CHECKED, "not asked yet"), now, now)

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        with self._lock:
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        """Under the lock: the worker's thread, started on first use."""
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._run, name=f"device-{self.name}",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Let the thread end after the current call; False if a hung call keeps it."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._jobs.put(None)
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                return False  # a hung call still holds the device: not released under it
        self._release()
        return True

    def _release(self) -> None:
        """The device's port, socket or camera let go (an adapter that holds one has a
        release()), so that the next owner (a restarted terminal, the technician's test) can
        open it. Not `close`: a locker's fake closes a door by that name."""
        release = getattr(self._device, "release", None)
        if callable(release):
            try:
                release()
            except Exception:  # a device that cannot be closed is left to the process's end
                log.exception("%s: could not be released", self.name)

    # ---------------------------------------------------------------- calls
    def submit(self, fn: Callable[[D], T], default: T, *, timeout_s: float | None = None,
               what: str = "call") -> PendingCall[T]:
        job = _Job(fn, what, timeout_s or self.call_timeout_s)
        with self._lock:
            if self._stopped:
                return PendingCall(self, None, default, CallProblem.STOPPED)
            self._notice_overrun()
            if self._hung is not None:
                return PendingCall(self, None, default, CallProblem.STILL_HUNG)
            self._ensure_thread()
            self._jobs.put(job)
        return PendingCall(self, job, default)

    def call(self, fn: Callable[[D], T], default: T, *, timeout_s: float | None = None,
             what: str = "call") -> Called[T]:
        """Run `fn(device)` on the worker within the deadline; `default` if it cannot."""
        return self.submit(fn, default, timeout_s=timeout_s, what=what).wait()

    def _collect(self, job: _Job, default: T, timeout_s: float | None) -> Called[T]:
        if not job.done.wait(job.timeout_s if timeout_s is None else timeout_s):
            hung: _Job | None = None
            with self._lock:
                if not job.done.is_set():
                    job.abandoned = True
                    if self._running is job and self._hung is None:
                        hung = self._hung = job  # started and stuck: the device is hung
                    else:  # never started: whatever it queued behind may be stuck
                        hung = self._notice_overrun()
            if hung is not None:
                self._announce_hung(hung)
            if not job.done.is_set():
                return Called(default, CallProblem.TIMEOUT)
        error, value = job.error, job.value
        job.value = job.error = None  # results (identities, faces) are not kept here
        if job.abandoned:
            # Given up on as hung (by another caller noticing the overrun) and its result
            # dropped when it came: a timeout, never the dropped result's None.
            return Called(default, CallProblem.TIMEOUT)
        if error is not None:
            log.error("%s: %s raised %r", self.name, job.what, error, exc_info=error)
            return Called(default, CallProblem.ERROR)
        return Called(value)

    # ---------------------------------------------------------------- status
    def report(self) -> StatusReport:
        """The cached status and its age; never waits on the device."""
        with self._lock:
            newly_hung = self._notice_overrun()
        if newly_hung is not None:
            self._announce_hung(newly_hung)
        with self._lock:
            return self._report

    def refresh(self, timeout_s: float | None = None) -> StatusReport:
        """Ask the device for its status now (through the queue, within the deadline)."""
        self.begin_refresh(timeout_s).wait()
        return self.report()

    def begin_refresh(self, timeout_s: float | None = None) -> PendingCall[None]:
        """Hand a status request to the worker; `wait()` on the result to let it finish (so
        several devices can be refreshed at once)."""
        job = _Job(_status_of, "status", timeout_s or self.call_timeout_s, is_status=True)
        with self._lock:
            if self._stopped:
                return PendingCall(self, None, None, CallProblem.STOPPED)
            if self._hung is not None:  # it cannot answer: report() already says so
                return PendingCall(self, None, None, CallProblem.STILL_HUNG)
            self._ensure_thread()
            self._jobs.put(job)
        return PendingCall(self, job, None)

    def _notice_overrun(self) -> _Job | None:
        """Under the lock: a job running past its deadline makes the device hung."""
        job = self._running
        if (job is not None and self._hung is None and job.started is not None
                and time.monotonic() - job.started > job.timeout_s and not job.done.is_set()):
            job.abandoned = True
            self._hung = job
            return job
        return None

    def _announce_hung(self, job: _Job) -> None:
        log.error("%s: %s did not answer within %.1f s", self.name, job.what, job.timeout_s)
        self._record(DeviceStatus(DeviceState.OFFLINE, LinkReason.NOT_ANSWERING,
                                  f"{job.what} did not answer within {job.timeout_s:.1f} s"))

    def _record(self, status: DeviceStatus) -> None:
        now = self._clock()
        with self._lock:
            before = self._report
            same = (before.status.state, before.status.reason) == (status.state, status.reason)
            self._report = StatusReport(status, now, before.since if same else now)
            report = self._report
            first = before.status.reason == NOT_CHECKED
        if before.status == status:
            return
        if first:
            if not status.usable:
                log.error("%s: %s (%s) %s", self.name, status.state, status.reason,
                          status.message)
            return  # the first answer is not a change
        if before.status.usable and not status.usable:
            log.error("%s: %s (%s) %s", self.name, status.state, status.reason, status.message)
        elif status.usable and not before.status.usable:
            log.info("%s: recovered, %s", self.name, status.state)
        if self._on_change is not None:
            try:
                self._on_change(self.name, report)
            except Exception:  # a listener (the audit log) must not stop the worker
                log.exception("%s: status listener failed", self.name)

    # ---------------------------------------------------------------- the thread
    def _run(self) -> None:
        while True:
            wait = None
            if self.poll_interval_s is not None:
                wait = max(0.0, self._next_poll - time.monotonic())
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = _Job(_status_of, "status poll", self.call_timeout_s, is_status=True)
            if job is None:
                return
            if job.abandoned:  # its caller gave up while it waited: never run it late
                continue
            self._execute(job)

    def _execute(self, job: _Job) -> None:
        with self._lock:
            self._running = job
            job.started = time.monotonic()
        value: Any = None
        error: BaseException | None = None
        try:
            value = job.fn(self._device)
        except Exception as e:
            error = e
        with self._lock:
            self._running = None
            answered_late = self._hung is job
            if answered_late:
                self._hung = None
            if not job.abandoned:
                job.value, job.error = value, error
            job.done.set()
        if job.is_status:
            self._next_poll = time.monotonic() + (self.poll_interval_s or 0.0)
            if error is not None:
                log.error("%s: status raised %r", self.name, error, exc_info=error)
                value = DeviceStatus(DeviceState.FAULT, LinkReason.ADAPTER_ERROR,
                                     f"{type(error).__name__}: {error}")
            if isinstance(value, DeviceStatus):
                self._record(value)
        elif answered_late or error is not None:
            # The device came back (or a call failed): look at it again before anyone else.
            self._execute(_Job(_status_of, "status", self.call_timeout_s, is_status=True))
        value = error = None  # hold nothing while waiting for the next call


def _status_of(device: HasStatus) -> DeviceStatus:
    return device.status()

