"""Device calls with a deadline, so that a hung driver cannot freeze a citizen's session.

Adapters are expected to answer quickly and to turn trouble into results, but a driver that
hangs (a printer that never acknowledges, a serial read with no timeout) or raises (a bug)
must not take the session with it: the caller gets a default after the deadline. While a hung
call is still running, no new call is started, so stuck threads never pile up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Called(Generic[T]):
    value: T
    problem: str | None = None  # None, "timeout", "still_hung" or "error"


class BoundedCall:
    def __init__(self, name: str) -> None:
        self.name = name
        self._hung: threading.Thread | None = None

    def run(self, fn: Callable[[], T], timeout_s: float, default: T) -> Called[T]:
        if self._hung is not None:
            if self._hung.is_alive():
                return Called(default, "still_hung")
            self._hung = None
        box: dict[str, T] = {}
        failed: list[BaseException] = []

        def call() -> None:
            try:
                box["value"] = fn()
            except Exception as e:  # a driver bug: logged, turned into the default
                failed.append(e)

        thread = threading.Thread(target=call, name=f"device-{self.name}", daemon=True)
        thread.start()
        thread.join(timeout_s)
        if thread.is_alive():
            log.error("%s did not answer within %.1f s", self.name, timeout_s)
            self._hung = thread
            return Called(default, "timeout")
        if failed:
            log.error("%s raised %r", self.name, failed[0], exc_info=failed[0])
            return Called(default, "error")
        return Called(box["value"])
