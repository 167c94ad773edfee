"""One cold start, in a fresh process: `python -m bench.cold_start bare|kiosk T0 ...`.

Prints the seconds from T0 (the parent's time.time() just before it started this process)
to the first drawn frame: the kiosk's attract screen (profile, terminal, outbox opened and
reconciled, devices started), a bare Kivy app with one label (`bare T0`), or a bare Kivy app
drawing a copy of the attract screen (`screen T0 SPEC`: Kivy's own classes, the same widgets,
words, sizes and backgrounds, in the kiosk's font, as bench/screen_copy.py copies screens; the
kiosk wrote SPEC at its first frame when BENCH_SPEC_TO named it).

The kiosk is started as `kiosk run` starts it on a hall's terminal: the CLI's module, the
profile, the terminal, the UI found through its entry point. Its back office is elsewhere
(the parent runs one and enrolled DATA_DIR with it: `kiosk T0 URL DATA_DIR`), not built into
the measured process as `kiosk demo` builds one; the devices are the profile's simulators
(a production start also asks pcscd for its readers, which this machine's bench has not).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

MODULES_TO = "BENCH_MODULES_TO"  # a file to list, at the first frame, the modules imported
SPEC_TO = "BENCH_SPEC_TO"  # a file to write the attract screen's copy to, at the first frame


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


def screen(t0: float, spec_file: str) -> None:
    import json

    from screens import env

    env.prepare(offscreen=True)
    from kivy.app import App
    from kivy.core.window import Window

    from bench.screen_copy import build_spec
    from screens.fonts import register_default_font

    class Copy(App):  # type: ignore[misc]
        def build(self) -> object:
            register_default_font()
            Window.bind(on_flip=self.flipped)
            return build_spec(json.loads(Path(spec_file).read_text()), lambda: None, [])

        def flipped(self, *_: object) -> None:
            print(f"{time.time() - t0:.4f}", flush=True)
            self.stop()

    Copy().run()


def kiosk(t0: float, backoffice_url: str, data_dir: str) -> None:
    from kiosk.cli import main as cli
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.demo.enrolment import TOKEN_FILE
    from kiosk.records.citizen_key import FILE_NAME as CITIZEN_KEY_FILE
    from kiosk.terminal import Terminal, TerminalOptions

    data = Path(data_dir)
    terminal = Terminal(with_simulated_devices(without_maintenance(load_profile("gov-hall"))),
                        TerminalOptions(data_dir=data, backoffice_url=backoffice_url,
                                        token_file=str(data / TOKEN_FILE),
                                        citizen_key_file=str(data / CITIZEN_KEY_FILE)))
    launch = cli._ui("launch")
    terminal.start(deliveries=False)  # as kiosk run starts it

    def first_frame() -> None:
        print(f"{time.time() - t0:.4f}", flush=True)
        if MODULES_TO in os.environ:  # what was imported on the way (tests/test_start_path.py)
            Path(os.environ[MODULES_TO]).write_text("\n".join(sorted(sys.modules)))
        from kivy.app import App

        if SPEC_TO in os.environ:
            import json

            from kivy.core.window import Window

            from bench.screen_copy import spec_of

            Path(os.environ[SPEC_TO]).write_text(json.dumps(spec_of(Window.children[0], None)))

        App.get_running_app().stop()

    try:
        launch(terminal, on_first_frame=first_frame)
    finally:
        terminal.stop()


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare(float(sys.argv[2]))
    elif sys.argv[1] == "screen":
        screen(float(sys.argv[2]), sys.argv[3])
    else:
        kiosk(float(sys.argv[2]), sys.argv[3], sys.argv[4])
