"""One cold start, in a fresh process: `python -m bench.cold_start kiosk|bare T0`.

Prints the seconds from T0 (the parent's time.time() just before it started this process)
to the first drawn frame: the kiosk's attract screen (profile, terminal, outbox, embedded
back office, all screens built), or a bare Kivy app with one label.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def bare(t0: float) -> None:
    from screens import env

    env.prepare(offscreen=True)
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.label import Label

    class Bare(App):  # type: ignore[misc]
        def build(self) -> Label:
            Window.bind(on_flip=self.flipped)
            return Label(text="Touch to start")

        def flipped(self, *_: object) -> None:
            print(f"{time.time() - t0:.4f}", flush=True)
            self.stop()

    Bare().run()


def kiosk(t0: float) -> None:
    from backoffice.running import start_in_thread
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.demo.enrolment import BackOfficeAccess
    from kiosk.terminal import Terminal, TerminalOptions
    from screens.app import launch

    data = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    backoffice = start_in_thread("127.0.0.1", 0, data / "backoffice")
    token, key = BackOfficeAccess.of(backoffice).enrol(data / "kiosk")
    terminal = Terminal(with_simulated_devices(without_maintenance(load_profile("gov-hall"))),
                        TerminalOptions(data_dir=data / "kiosk", backoffice_url=backoffice.url,
                                        token_file=token, citizen_key_file=key))
    terminal.start()

    def first_frame() -> None:
        print(f"{time.time() - t0:.4f}", flush=True)
        from kivy.app import App

        App.get_running_app().stop()

    try:
        launch(terminal, on_first_frame=first_frame)
    finally:
        terminal.stop()
        backoffice.stop()


if __name__ == "__main__":
    {"bare": bare, "kiosk": kiosk}[sys.argv[1]](float(sys.argv[2]))
