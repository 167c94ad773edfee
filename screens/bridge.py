"""The only way screens reach the session: intents go to one worker thread, views come back
on the UI thread. The UI thread never waits on a device, the disk or the network.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock

from kiosk.config.catalogue import Intent
from kiosk.session import Session, SessionView

log = logging.getLogger(__name__)
ViewSink = Callable[[SessionView], None]


class SessionBridge:
    def __init__(self, session: Session, on_view: ViewSink, *, threaded: bool = True) -> None:
        self._session = session
        self._on_view = on_view
        self._threaded = threaded
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue())
        self._pending_tick = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticked_at: float | None = None  # monotonic; the watchdog's keep-alive reads it
        session.subscribe(self._from_worker)

    # -- lifecycle --
    def start(self, tick_s: float) -> None:
        if self._threaded and self._thread is None:
            self._thread = threading.Thread(target=self._work, name="session", daemon=True)
            self._thread.start()
        Clock.schedule_interval(lambda _dt: self.tick(), tick_s)
        self.refresh()

    def stop(self) -> None:
        self._jobs.put(None)

    def refresh(self) -> None:
        """Draw the current view (e.g. after building the screens)."""
        self._post(lambda: self._from_worker(self._session.view()))

    # -- intents --
    def touch(self) -> None:
        self._post(self._session.touch)

    def choose_intent(self, intent: Intent) -> None:
        self._post(self._session.choose_intent, intent)

    def choose(self, item_id: str) -> None:
        self._post(self._session.choose, item_id)

    def enter_passport_details(self, number: str, birth: str, expiry: str) -> None:
        self._post(self._session.enter_passport_details, number, birth, expiry)

    def pickup_code(self, code: str) -> None:
        self._post(self._session.pickup_code, code)

    def set_field(self, name: str, value: str) -> None:
        self._post(self._session.set_field, name, value)

    def submit_form(self) -> None:
        self._post(self._session.submit_form)

    def confirm(self) -> None:
        self._post(self._session.confirm)

    def reprint(self) -> None:
        self._post(self._session.reprint)

    def back(self) -> None:
        self._post(self._session.back)

    def go_home(self) -> None:
        self._post(self._session.go_home)

    def finish(self) -> None:
        self._post(self._session.finish)

    def extend_time(self) -> None:
        self._post(self._session.extend_time)

    def call_staff(self) -> None:
        self._post(self._session.call_staff)

    def set_language(self, lang: str) -> None:
        self._post(self._session.set_language, lang)

    def set_elder(self, on: bool) -> None:
        self._post(self._session.set_elder, on)

    def set_high_contrast(self, on: bool) -> None:
        self._post(self._session.set_high_contrast, on)

    def set_read_aloud(self, on: bool) -> None:
        self._post(self._session.set_read_aloud, on)

    def consent_face(self, agree: bool) -> None:
        self._post(self._session.consent_face, agree)

    def rate(self, level: int) -> None:
        self._post(self._session.rate, level)

    def toggle_reason(self, code: str) -> None:
        self._post(self._session.toggle_reason, code)

    def send_rating(self) -> None:
        self._post(self._session.send_rating)

    def skip_rating(self) -> None:
        self._post(self._session.skip_rating)

    def tick(self) -> None:
        # Ticks do not pile up behind a slow job (a print, a back-office query).
        if not self._pending_tick.is_set():
            self._pending_tick.set()
            self._post(self._tick)

    def _tick(self) -> None:
        self._pending_tick.clear()
        try:
            self._session.tick()
        finally:  # a tick that raised still shows the worker alive
            self.ticked_at = time.monotonic()

    # -- plumbing --
    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._threaded:
            self._jobs.put((fn, args))
        else:
            self._run(fn, args)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            self._run(*job)

    @staticmethod
    def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:  # a bug in one intent must not stop the kiosk
            log.exception("session intent %s failed", getattr(fn, "__name__", fn))

    def _from_worker(self, view: SessionView) -> None:
        if self._threaded:
            Clock.schedule_once(lambda _dt: self._on_view(view), 0)
        else:
            self._on_view(view)
