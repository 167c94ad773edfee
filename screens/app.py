"""`kiosk demo` / `kiosk run`: the Kivy application around a terminal's session."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.session import SessionView
from kiosk.terminal import Terminal
from screens import env

log = logging.getLogger(__name__)
LIVE_PNG_EVERY_S = 2.0


def launch(terminal: Terminal, *, autoplay: bool = False,
           on_first_frame: Callable[[], None] | None = None) -> None:
    """Run the touch UI until the window closes or SIGINT/SIGTERM arrives.

    `on_first_frame` is called once, when the first frame showing a session view has been
    drawn (the cold-start benchmark measures up to there)."""
    mode = terminal.profile.kiosk
    offscreen = env.prepare(lockdown=mode.lockdown, touch=mode.touch)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    from screens.autoplay import DemoCitizen
    from screens.bridge import SessionBridge
    from screens.fonts import register_default_font
    from screens.keepalive import UiKeepAlive
    from screens.lockdown import Lockdown
    from screens.screenshot import save_window_png
    from screens.shell import Shell
    from screens.theme import Theme
    from screens.voice import EspeakSpeaker, VoiceGuide

    register_default_font()
    from screens import keyboard
    from screens.pinyin import PinyinEngine

    keyboard.install()
    engine = PinyinEngine()
    engine.check()  # a missing dictionary stops start-up, not the first keystroke
    profile = terminal.profile
    live_png = terminal.options.data_dir / "screen.png"

    class KioskApp(App):  # type: ignore[misc]
        title = profile.terminal.name.zh

        def build(self) -> Any:
            theme = Theme(profile.branding)
            Window.clearcolor = theme.background
            self.citizen: DemoCitizen | None = None
            self.bridge = SessionBridge(terminal.session, self._show)
            self.keepalive = UiKeepAlive(self.bridge)  # systemd's / `kiosk supervise`'s watchdog
            # Without a sound device (a headless demo) speech goes to WAV files instead.
            speaker = EspeakSpeaker(terminal.options.data_dir / "voice" if offscreen else None)
            self.shell = Shell(profile, theme, self.bridge, VoiceGuide(speaker), engine,
                               staff=terminal)
            if autoplay:
                self.citizen = DemoCitizen(self.bridge, {s.id: s for s in terminal.services})
            self.lockdown = Lockdown(Window)
            if mode.lockdown:
                self.lockdown.hold(self)
            # The first frame drawn is the session's screen, not an empty frame before it:
            # the session's thread is not running yet, so it is asked here, once.
            self._show(terminal.session.view())
            return self.shell

        def _show(self, view: SessionView) -> None:
            self.shell.show(view)
            if not getattr(self, "_first_seen", False):
                self._first_seen = True

                def flipped(*_: object) -> None:
                    Window.unbind(on_flip=flipped)
                    Clock.schedule_once(lambda _dt: self._after_first_frame(), 0)
                    self.keepalive.ready(view.state.value)
                    if on_first_frame is not None:
                        on_first_frame()

                Window.bind(on_flip=flipped)
            if self.citizen is not None:
                self.citizen.see(view)

        def _after_first_frame(self) -> None:
            """What can wait until the attract screen is up: what start-up made lives as
            long as the app, out of the collector's way (so that a full collection, a quarter
            of a second here, does not land on a tap); the pinyin dictionary is read; the
            outbox's deliveries and the heartbeat start."""
            self.shell.collector.started()
            engine.load_in_background()
            terminal.start_deliveries()

        def on_start(self) -> None:
            self.bridge.start(terminal.timings.ui_tick_s)
            self.keepalive.start()
            if offscreen:
                Clock.schedule_interval(lambda _dt: _write_live(live_png), LIVE_PNG_EVERY_S)

        def on_stop(self) -> None:
            self.keepalive.stop()
            self.bridge.stop()

    def _write_live(path: Path) -> None:
        try:
            save_window_png(path)
        except OSError:
            log.exception("could not write %s", path)

    app = KioskApp()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: Clock.schedule_once(lambda _dt: app.stop(), 0))
    # A configuration from the back office is run by a restart, at a moment nobody is there.
    terminal.set_restart_hook(lambda: Clock.schedule_once(lambda _dt: app.stop(), 0))
    if offscreen:
        who = " (a simulated citizen taps through)" if autoplay else ""
        print(f"kiosk: no display, drawing offscreen; the screen is written to {live_png} "
              f"every {LIVE_PNG_EVERY_S:.0f} s{who}; Ctrl-C stops", flush=True)
    app.run()
