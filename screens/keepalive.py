"""The app's keep-alives to its service manager (systemd or `kiosk supervise`), sent from the
UI thread so that a hung UI loop stops them and is restarted.

READY=1 goes when the first frame showing a session view has been drawn (start-up
reconciliation ran before the app was built: kiosk/cli/main.py `_run_ui`). Then WATCHDOG=1
from a Kivy Clock interval at half the watchdog period, but only while the session's own tick
keeps completing on its worker thread (SessionBridge.ticked_at): a UI that draws over a stuck
session worker answers no citizen either. A stuck session is said in STATUS= and logged once.
"""

from __future__ import annotations

import faulthandler
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.ops import watchdog

log = logging.getLogger(__name__)


class Ticked(Protocol):
    @property
    def ticked_at(self) -> float | None: ...


class UiKeepAlive:
    def __init__(self, ticks: Ticked, *, notifier: watchdog.Notifier | None = None,
                 interval_s: float | None = None, now: Callable[[], float] = time.monotonic,
                 ) -> None:
        self._ticks = ticks
        self._notifier = notifier or watchdog.notifier()
        self.interval_s = watchdog.watchdog_interval_s() if interval_s is None else interval_s
        self._now = now
        self._since = now()
        self._event: Any = None
        self.stalled = False

    def start(self) -> None:
        """Beat from the UI thread's Clock (call from on_start, on the UI thread)."""
        if not self._notifier.enabled or not self.interval_s:
            return
        from kivy.clock import Clock

        # The watchdog's SIGABRT then prints where every thread was (the journal keeps it):
        # where the UI hung. Tracebacks hold code locations, never values.
        if not faulthandler.is_enabled():
            faulthandler.enable(all_threads=True)
        self._since = self._now()
        self._event = Clock.schedule_interval(lambda _dt: self.beat(), self.interval_s / 2)

    def ready(self, screen: str) -> None:
        self._notifier.send(watchdog.READY, watchdog.status(f"ready: {screen} screen drawn"))

    def beat(self) -> bool:
        """WATCHDOG=1 if the session's tick completed within the period; whether it went."""
        assert self.interval_s is not None
        last = self._ticks.ticked_at
        age = self._now() - (self._since if last is None else max(last, self._since))
        if age > self.interval_s:
            if not self.stalled:
                self.stalled = True
                log.error("the session has not ticked for %.0f s; keep-alives withheld, so "
                          "the service manager restarts the app", age)
                self._notifier.send(watchdog.status(
                    f"session worker stalled for {age:.0f} s; keep-alives withheld"))
            return False
        if self.stalled:
            self.stalled = False
            log.warning("the session ticks again; keep-alives resumed")
            self._notifier.send(watchdog.status("ready: the session ticks again"))
        return self._notifier.send(watchdog.WATCHDOG)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._notifier.send(watchdog.STOPPING, watchdog.status("stopping"))
