"""Staff mode in the shell: the hidden entry on the top bar's info row opens the staff
sign-in over whatever the session shows (when it may: on the attract or out-of-service
screen, or after the citizen called for help, never over a citizen's data otherwise); the
console follows a sign-in; cancelling, signing out or the staff session timing out goes back
to the session's screen, and the staff screens are wiped."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from kivy.clock import Clock

from kiosk.session import Session, SessionView, State
from kiosk.staff import StaffDesk
from kiosk.staff.console import StaffConsole
from screens.staff.gesture import EntryGesture

CONSOLE_REFRESH_S = 5.0
OPEN_OVER = (State.ATTRACT, State.OUT_OF_SERVICE)
CORNER = 0.25  # of the info row's width, at each end


class StaffPort(Protocol):
    """What the terminal gives the staff screens (kiosk/terminal.py has all three)."""

    staff: StaffDesk
    console: StaffConsole
    session: Session


class StaffMode:
    def __init__(self, shell: Any, port: StaffPort | None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.shell, self.port, self.now = shell, port, now
        self.gesture = EntryGesture()
        self.showing: str | None = None  # None, "staff_sign_in" or "staff_console"
        self._refresh: Any = None
        self._assisting = False  # signed in to assist the citizen on screen

    # ------------------------------------------------------------------ the entry
    def on_view(self, view: SessionView) -> None:
        """Each view: assistance ends with the citizen's session (the privacy wipe ends it
        there; the staff session goes with it)."""
        ended = view.state in (State.RATE, State.GOODBYE, State.ATTRACT, State.OUT_OF_SERVICE)
        # Only a view of the session's end: a view published before the assistance began
        # (queued behind it) does not end it.
        if self._assisting and ended and self.port is not None:
            self._assisting = False
            self.port.staff.sign_out()

    def touch_down(self, touch: Any) -> None:
        if self.port is not None and (self._assisting or self.showing is not None):
            self.port.staff.touched()  # staff at the screen keep their session
            if self._assisting:
                self.port.session.staff_present()  # and the citizen's session, theirs
        info = self.shell.info
        if self.port is not None and info.collide_point(*touch.pos):
            touch.ud["staff_entry"] = (self.now(), self._corner(touch.x))

    def touch_up(self, touch: Any) -> None:
        down = touch.ud.get("staff_entry")
        if down is None:
            return
        at, corner = down
        if self.gesture.press(corner, at, self.now()) and self.may_open(self.shell.view):
            self.open()

    def _corner(self, x: float) -> str | None:
        info = self.shell.info
        if x < info.x + info.width * CORNER:
            return "left"
        if x > info.right - info.width * CORNER:
            return "right"
        return None

    @staticmethod
    def may_open(view: SessionView | None) -> bool:
        return view is None or view.state in OPEN_OVER or view.staff_called

    # ------------------------------------------------------------------ the screens
    def open(self) -> None:
        assert self.port is not None
        screen = self._show("staff_sign_in")
        screen.open(self.port.staff, signed_in=self._console, cancel=self.close)

    def _console(self) -> None:
        assert self.port is not None
        member = self.port.staff.current()
        if member is not None and member.may("assist") and \
                self.port.session.staff_assisting(member.staff_id, member.role.id):
            self._assisting = True
        screen = self._show("staff_console")
        screen.open(self.port.console, done=self.close, session=self.port.session,
                    back_to_citizen=self.back_to_citizen)
        if self._refresh is not None:
            self._refresh.cancel()
        self._refresh = Clock.schedule_interval(lambda _dt: self._redraw(), CONSOLE_REFRESH_S)

    def _redraw(self) -> None:
        if self.showing == "staff_console":
            screen = self.shell.screens["staff_console"]
            if self.port.staff.current() is not None and screen.typing():  # type: ignore[union-attr]
                return  # an application number being typed is not wiped by a refresh
            screen.redraw()  # a staff session that timed out closes it

    def _show(self, name: str) -> Any:
        shell = self.shell
        self.showing = name
        screen = shell._screen(name)
        screen.lang = shell.view.language if shell.view is not None else "zh"
        shell.manager.current = name
        shell.staff_frame(True)
        return screen

    def back_to_citizen(self) -> None:
        """The staff screens go; the staff session stays, assisting (the banner says so)."""
        self._leave_screens()

    def close(self) -> None:
        """The staff session is over (cancelled, signed out, timed out)."""
        if self.port is not None:
            if self._assisting:
                self._assisting = False
                self.port.session.staff_left()
            self.port.staff.sign_out()
        self._leave_screens()

    def _leave_screens(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None
        self.showing = None
        for name in ("staff_sign_in", "staff_console"):
            screen = self.shell.screens.get(name)
            if screen is not None:
                screen.release_keyboard()
                screen.wipe()
        self.shell.staff_frame(False)
        if self.shell.view is not None:
            self.shell.show(self.shell.view)
