"""The app's side of the watchdog trial (tests/test_watchdog.py): the production touch UI
(screens.app.launch) around a terminal with simulated devices, drawn offscreen, run under
`kiosk supervise`. Test-only hooks, never in production code:

    SIGUSR1  a Kivy Clock callback blocks the UI thread for ever (a hung UI loop; the
             session's worker and the devices' threads keep running)
    SIGUSR2  the session's next tick blocks its worker thread for ever (the UI keeps drawing)

    python -m tests.hang_app DATA_DIR
"""

from __future__ import annotations

import resource
import signal
import sys
import threading
from pathlib import Path

from screens import env


def finish_each_frame() -> None:
    """Offscreen, software GL (llvmpipe) defers drawing until something must wait for it
    (a texture upload, the live PNG's glReadPixels), then runs it all on the UI thread: 1.5 s
    here, 3 s and more under load, which a 3 s test watchdog rightly takes for a hang. A
    display's buffer swap paces a terminal's frames; glFinish after each frame does it here."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    Window.bind(on_flip=lambda *_: glFinish())


def main() -> None:
    data = Path(sys.argv[1])
    # The watchdog's SIGABRT would otherwise leave a core file of a 200 MB process.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    env.prepare(offscreen=True)
    from kivy.clock import Clock

    from kiosk.config.profile import (
        load_profile,
        with_simulated_devices,
        without_lockdown,
        without_maintenance,
    )
    from kiosk.terminal import Terminal, TerminalOptions
    from screens.app import launch
    from tests.enrol import enrol

    Clock.schedule_once(lambda _dt: finish_each_frame(), 0)
    profile = with_simulated_devices(
        without_lockdown(without_maintenance(load_profile("gov-hall"))), instant=True)
    # Nothing listens on the back office's port: the outbox keeps what there is, as offline.
    terminal = Terminal(profile, TerminalOptions(
        data_dir=data, backoffice_url="http://127.0.0.1:9", **enrol(data)))
    forever = threading.Event()

    def hang_ui(*_: object) -> None:
        Clock.schedule_once(lambda _dt: forever.wait(), 0)

    def hang_session(*_: object) -> None:
        terminal.session.tick = lambda: forever.wait()  # type: ignore[method-assign]

    signal.signal(signal.SIGUSR1, hang_ui)
    signal.signal(signal.SIGUSR2, hang_session)
    terminal.start(deliveries=False)  # as kiosk/cli/main.py's _run_ui: reconciled first
    try:
        launch(terminal)
    finally:
        terminal.stop()


if __name__ == "__main__":
    main()
