"""Staff sign-in: a staff number and a PIN, typed on the kiosk's own keyboard (the PIN as
dots); a refusal says why (a wrong PIN and the tries left before a pause, a lockout and until
when), never which of number or PIN was wrong."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.uix.widget import Widget

from kiosk.staff import StaffDesk, StaffSignIn
from screens.base import KioskScreen
from screens.widgets import BigButton, ErrorText, Text, text_field

log = logging.getLogger(__name__)
BADGE_POLL_S = 0.5


class StaffSignInScreen(KioskScreen):
    kv_name = "staff_sign_in"

    def open(self, desk: StaffDesk, signed_in: Callable[[], None],
             cancel: Callable[[], None]) -> None:
        """Draw an empty form (nothing of an earlier try is kept)."""
        self._desk, self._signed_in, self._cancel = desk, signed_in, cancel
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        body.add_widget(Text(theme=th, role="title", bold=True, text=self.t("staff.sign_in_title")))
        if desk.uses_badges():
            body.add_widget(Text(theme=th, role="body", text=self.t("staff.or_badge")))
        self.number = text_field(th, self.t("staff.number"))
        # A bank's tellers sign on with their bank password (letters too); PINs are digits.
        tellers = desk.teller_role() is not None
        self.pin = text_field(th, self.t("staff.password" if tellers else "staff.pin"))
        self.pin.password = True
        self.error = ErrorText(theme=th)
        for field, mode in ((self.number, "latin"), (self.pin, "latin" if tellers else "digits")):
            field.bind(focus=lambda w, on, m=mode: self.focused(w, on, m))
            body.add_widget(field)
        body.add_widget(self.error)
        body.add_widget(Widget(size_hint_y=None, height=th.gap))
        go = BigButton(theme=th, kind="primary", title=self.t("staff.sign_in"))
        go.bind(on_release=lambda *_: self.submit())
        back = BigButton(theme=th, kind="secondary", title=self.t("staff.cancel"))
        back.bind(on_release=lambda *_: self._leave(self._cancel))
        body.add_widget(go)
        body.add_widget(back)
        self._label_scrollers()
        self.type_into(self.number, "latin")
        self._watch_badges(desk)

    def _watch_badges(self, desk: StaffDesk) -> None:
        """Where roles sign in with a badge: one on a reader signs in, read off the UI
        thread every half second while this screen is up."""
        from kivy.clock import Clock

        self._stop_badges()
        if not desk.uses_badges():
            return
        desk.forget_badge()  # a badge still on the reader from before is tried again
        self._reading = False

        def done(signed: StaffSignIn | None) -> None:
            self._reading = False
            if signed is None:
                return
            if self._badge_event is None:  # the screen went meanwhile: no one stays signed in
                if signed.ok:
                    desk.sign_out()
                return
            if signed.ok:
                self._leave(self._signed_in)
            else:
                self.error.text = self.t("staff.refused_badge")

        def read() -> None:
            signed: StaffSignIn | None = None
            try:
                signed = desk.try_badge()
            except Exception:
                log.exception("staff badge read failed")
            Clock.schedule_once(lambda _dt: done(signed), 0)

        def poll(_dt: float) -> None:
            if not self._reading:
                self._reading = True
                threading.Thread(target=read, name="staff-badge", daemon=True).start()

        self._badge_event = Clock.schedule_interval(poll, BADGE_POLL_S)

    def _stop_badges(self) -> None:
        event = getattr(self, "_badge_event", None)
        if event is not None:
            event.cancel()
        self._badge_event = None

    def submit(self) -> StaffSignIn:
        try:
            signed = self._desk.sign_in(self.number.text.strip(), self.pin.text)
        except Exception:  # a full disk, a locked database: said, never a crash
            log.exception("staff sign-in failed")
            signed = StaffSignIn(False, "unavailable")
        self.pin.text = ""  # never kept on screen, whatever the answer
        if signed.ok:
            self._leave(self._signed_in)
        else:
            self.error.text = self.refusal(signed)
        return signed

    def refusal(self, signed: StaffSignIn) -> str:
        if signed.reason == "wrong_pin":
            return self.t("staff.refused_wrong_pin", tries=signed.tries_left)
        if signed.reason == "locked":
            until = time.strftime("%H:%M:%S", time.localtime(signed.locked_until or 0))
            return self.t("staff.refused_locked", until=until)
        known = ("wrong_way", "no_pins", "sign_on_unreachable", "unavailable")
        return self.t(f"staff.refused_{signed.reason if signed.reason in known else 'unknown'}")

    def _leave(self, then: Callable[[], None]) -> None:
        self._stop_badges()
        self.release_keyboard()
        then()

    def release_keyboard(self) -> None:
        if self.keyboard is not None and self.holds_keyboard(self._fields()):
            self.keyboard.detach()

    def _fields(self) -> list[Any]:
        return [f for f in (getattr(self, "number", None), getattr(self, "pin", None)) if f]

    def wipe(self) -> None:
        self._stop_badges()
        super().wipe()
        self.number = self.pin = None  # type: ignore[assignment]
