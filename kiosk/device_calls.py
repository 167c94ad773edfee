"""Device calls with a deadline, so that a hung driver cannot freeze a citizen's session.

Adapters are expected to answer quickly and to turn trouble into results, but a driver that
hangs (a printer that never acknowledges, a serial read with no timeout) or raises (a bug)
must not take the session with it: the caller gets a default after the deadline. Each kind of
call has one long-lived worker thread; while a hung call is still running, no new call is
queued behind it, so nothing piles up.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Called(Generic[T]):
    value: T
    problem: str | None = None  # None, "timeout", "still_hung" or "error"


@dataclass
class _Job:
    fn: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    abandoned: bool = False  # the caller gave up: drop the result (it may be personal data)


class BoundedCall:
    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._hung: _Job | None = None

    def run(self, fn: Callable[[], T], timeout_s: float, default: T) -> Called[T]:
        if self._hung is not None:
            if not self._hung.done.is_set():
                return Called(default, "still_hung")
            self._hung = None
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=f"device-{self.name}",
                                            daemon=True)
            self._thread.start()
        job = _Job(fn)
        self._jobs.put(job)
        if not job.done.wait(timeout_s):
            log.error("%s did not answer within %.1f s", self.name, timeout_s)
            job.abandoned = True
            self._hung = job
            return Called(default, "timeout")
        error, value = job.error, job.value
        job.value = job.error = None  # read results (identities, faces) are not kept here
        if error is not None:
            log.error("%s raised %r", self.name, error, exc_info=error)
            return Called(default, "error")
        return Called(value)

    def close(self) -> None:
        """Let the worker thread end (after a call still running, if one hangs)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                value = job.fn()
                if not job.abandoned:
                    job.value = value
            except Exception as e:  # a driver bug: reported to the caller as "error"
                job.error = e
            finally:
                job.done.set()
                value = job = None  # hold nothing while waiting for the next call
