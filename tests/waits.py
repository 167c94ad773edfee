"""Waiting on something outside the test's control (a real peer, another thread or process),
where there is no clock of ours to advance: poll until it holds, or fail after a limit."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], bool], limit_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {limit_s} s")
        time.sleep(0.01)
