"""Whether the terminal serves now: the maintenance window, read off the injected clock,
the space left to keep what a citizen would submit, and whether anything can be offered."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kiosk.config.settings import Clock
from kiosk.session.view import Notice, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session


def serving(s: Session) -> tuple[State, Notice | None]:
    """ATTRACT when a session can start, else OUT_OF_SERVICE and why (maintenance, too little
    space to keep what a citizen would submit, or nothing offered)."""
    until = maintenance_until(s.d.maintenance, s.d.clock)
    if until:
        return State.OUT_OF_SERVICE, Notice("maintenance", (("until", until),))
    free = s.d.storage_free()
    if free is not None and free < s.d.timings.min_free_bytes:
        return State.OUT_OF_SERVICE, Notice("storage_full")
    anything = any(r is None for r in s.availability().values())
    return (State.ATTRACT if anything else State.OUT_OF_SERVICE), None


def maintenance_until(window: tuple[int, int] | None, clock: Clock) -> str | None:
    """The end of the maintenance window ("03:20") while inside it, else None."""
    if window is None or not inside(window, clock):
        return None
    return f"{window[1] // 60:02d}:{window[1] % 60:02d}"


def inside(window: tuple[int, int], clock: Clock) -> bool:
    """Whether now is in the window: (start, end) in minutes after midnight, local time; end
    may be past midnight."""
    t = time.localtime(clock.wall())
    minute, (start, end) = t.tm_hour * 60 + t.tm_min, window
    return start <= minute < end if start <= end else (minute >= start or minute < end)


def staffed_now(s: Session) -> str:
    """"staffed" while the hall's staff are on duty (or the hours are not known), else
    "after_hours": then a call for help is answered by the hotline, not by someone here."""
    window = s.d.staffed
    return "staffed" if window is None or inside(window, s.d.clock) else "after_hours"
