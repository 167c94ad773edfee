"""Python's garbage collector, out of the citizen's way.

A full collection walks every object the UI holds (a quarter of a second here, on a 2-core
kiosk); left to itself it lands on whichever tap happens to allocate past its threshold. So:
what start-up made is frozen (it lives as long as the app); during a session only the young
generations are collected (they hold what the session's screens made and let go of); and
when the terminal is back on the attract screen, with nobody waiting, everything is
collected once and frozen again. A session's cyclic garbage that reached the old generation
waits at most until the session ends (sessions end by a countdown, at most minutes)."""

from __future__ import annotations

import gc
from collections.abc import Callable

# The old generation's threshold during a session: in effect never (a session is minutes).
SESSION_OLDEST = 1_000_000
IDLE_OLDEST = gc.get_threshold()[2]


class Collector:
    def __init__(self, later: Callable[[Callable[[], None]], None] | None = None) -> None:
        """`later(fn)` runs fn once the frame in hand has been drawn (Kivy's Clock, in the
        app); without it the collection runs at once."""
        self._later = later
        self._young = gc.get_threshold()[:2]
        self._idle = True
        self.collections = 0

    def started(self) -> None:
        """The app has started: what it made so far is kept for good."""
        gc.collect()
        gc.freeze()
        self._oldest()

    def on_state(self, idle: bool) -> None:
        """Each view: `idle` when nobody is using the terminal (attract, out of service)."""
        if idle == self._idle:
            return
        self._idle = idle
        self._oldest()
        if idle:
            if self._later is None:
                self.collect()
            else:
                self._later(self.collect)

    def collect(self) -> None:
        """Everything collected (the frozen too: some of it may have died since), then
        frozen again."""
        if not self._idle:  # a citizen touched the screen before it could run
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.collections += 1

    def _oldest(self) -> None:
        """Idle, the collector as Python ships it (an attract screen left for a day makes
        garbage too); in a session, the old generation left for the end."""
        gc.set_threshold(*self._young, IDLE_OLDEST if self._idle else SESSION_OLDEST)
