"""Where steps run: on their own threads in the terminal, inline in headless runs and tests."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class StepRunner(Protocol):
    def run(self, work: Callable[[], None]) -> None:
        """Start `work` (a step and the hand-back of its result); may return before it ends."""
        ...


class ThreadedSteps:
    """Each step on a thread of its own, so a step that waits (a print, a slow back office)
    holds neither the session nor the next step. Every step is bounded (device calls by their
    worker's deadline, HTTP by its timeout), so threads do not pile up."""

    def __init__(self) -> None:
        self._count = itertools.count(1)

    def run(self, work: Callable[[], None]) -> None:
        threading.Thread(target=self._guarded, args=(work,), daemon=True,
                         name=f"session-step-{next(self._count)}").start()

    @staticmethod
    def _guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # a bug in one step must not end the kiosk
            log.exception("session step failed")


class InlineSteps:
    """Runs each step at once, in the caller (after the session lock is released): headless
    simulations and state-machine tests stay deterministic."""

    def run(self, work: Callable[[], None]) -> None:
        work()
