"""The maintenance window, read off the injected clock."""

from __future__ import annotations

import time

from kiosk.config.settings import Clock


def maintenance_until(window: tuple[int, int] | None, clock: Clock) -> str | None:
    """The end of the maintenance window ("03:20") while inside it, else None. The window is
    (start, end) in minutes after midnight, local time; end may be past midnight."""
    if window is None:
        return None
    t = time.localtime(clock.wall())
    minute, (start, end) = t.tm_hour * 60 + t.tm_min, window
    inside = start <= minute < end if start <= end else (minute >= start or minute < end)
    return f"{end // 60:02d}:{end % 60:02d}" if inside else None
