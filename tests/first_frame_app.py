"""The production touch UI (screens.app.launch) started as `kiosk run` starts it, offscreen,
for tests/test_start_path.py: an envelope waits in the outbox; the app says whether the
terminal was delivering when its first frame was drawn, then whether the envelope reached the
back office within the time given, and stops.

    python -m tests.first_frame_app DATA_DIR BACKOFFICE_URL
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from screens import env

KEY = "first-frame-test"
WAIT_S = 30.0


def main() -> None:
    data, url = Path(sys.argv[1]), sys.argv[2]
    env.prepare(offscreen=True)
    from kivy.app import App
    from kivy.clock import Clock

    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.terminal import Terminal, TerminalOptions, open_outbox
    from screens.app import launch
    from tests.enrol import enrol

    outbox = open_outbox(data)
    outbox.enqueue("staff.alert", b'{"what": "first frame test"}', KEY)
    outbox.close()
    profile = with_simulated_devices(without_maintenance(load_profile("gov-hall")), instant=True)
    terminal = Terminal(profile, TerminalOptions(data_dir=data, backoffice_url=url,
                                                 **enrol(data)))
    terminal.start(deliveries=False)  # as kiosk/cli/main.py's _run_ui
    started = time.monotonic()

    def watch(_dt: float) -> bool:
        delivered = terminal.outbox.status_of(KEY) == "delivered"
        if delivered or time.monotonic() - started > WAIT_S:
            print("delivered" if delivered else "not delivered", flush=True)
            App.get_running_app().stop()
            return False
        return True

    def first_frame() -> None:
        print(f"first frame, delivering={terminal.delivering}", flush=True)
        Clock.schedule_interval(watch, 0.1)

    try:
        launch(terminal, on_first_frame=first_frame)
    finally:
        terminal.stop()


if __name__ == "__main__":
    main()
