"""Lockdown (the profile's [kiosk] lockdown): nobody leaves the app by keyboard or gesture.

screens/env.py sets what Kivy reads at start (fullscreen, borderless, no cursor, one input
provider, no modules); this holds what arrives while it runs: the window's close request
(Alt+F4, a window manager's close) is refused, Escape and the function keys Kivy or SDL act
on (F1: Kivy's settings panel; F11, F12) are swallowed, and the settings panel cannot be
opened by any other way. Only `release()` (the staff entry's "leave the app", or the
service manager stopping the app with a signal, which does not pass through here) lets the
window close."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Kivy keycodes: Escape, F1 (settings panel), F11, F12 (screenshot / fullscreen toggles in
# some SDL builds), the Menu key.
SWALLOWED = frozenset({27, 282, 292, 293, 319})


class Lockdown:
    def __init__(self, window: Any) -> None:
        self.window = window
        self.held = False
        self.refused = 0  # close requests and keys refused, for the technician's self-test

    def hold(self, app: Any | None = None) -> None:
        """From now on the window stays; `app`'s settings panel never opens."""
        if self.held:
            return
        self.held = True
        self.window.bind(on_request_close=self._close_requested, on_keyboard=self._key)
        if app is not None:
            app.use_kivy_settings = False
            app.open_settings = self._no_settings  # F1, or anything else that asks for it
            app.display_settings = self._no_settings

    def release(self) -> None:
        """The staff entry lets the app be left (the window may close again)."""
        if self.held:
            self.window.unbind(on_request_close=self._close_requested, on_keyboard=self._key)
            self.held = False

    def _close_requested(self, *_: object, **kwargs: object) -> bool:
        self.refused += 1
        log.warning("lockdown: a request to close the window (%s) refused",
                    kwargs.get("source", "window manager"))
        return True  # handled: Kivy does not close

    def _key(self, _window: object, key: int, *_: object, **__: object) -> bool:
        if key in SWALLOWED:
            self.refused += 1
            return True
        return False

    def _no_settings(self, *_: object, **__: object) -> bool:
        self.refused += 1
        return False
