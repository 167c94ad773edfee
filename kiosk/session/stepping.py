"""The session's one step in flight: started under the session lock, run off it, its result
handed back to the machine unless the session has moved on.

A step that overruns its limit is given up: the machine gets the step's "late" result (e.g.
"not printed") at the next tick, and the real result, should it ever come, is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False)
class Step:
    name: str
    started: float
    limit_s: float
    work: Callable[[], Any]
    apply: Callable[[Any], None]  # called by the machine, under its lock
    late: Any  # the result given to `apply` when the step overruns its limit


class StepSlot:
    """At most one step per session. Not thread-safe by itself: the session's lock guards it."""

    def __init__(self) -> None:
        self.current: Step | None = None
        self._to_launch: list[Step] = []

    @property
    def busy(self) -> bool:
        return self.current is not None

    def begin(self, step: Step) -> None:
        self.current = step
        self._to_launch.append(step)

    def drop(self) -> None:
        """The session moved on: whatever is in flight will not be applied."""
        self.current = None
        self._to_launch.clear()

    def take_launches(self) -> list[Step]:
        launches, self._to_launch = self._to_launch, []
        return [s for s in launches if s is self.current]

    def finished(self, step: Step) -> bool:
        """The step's result may be applied (it is still the one in flight)."""
        if self.current is not step:
            return False
        self.current = None
        return True

    def overdue(self, now: float) -> Step | None:
        step = self.current
        if step is not None and now - step.started > step.limit_s:
            self.current = None
            return step
        return None
