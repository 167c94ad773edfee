"""What a terminal imports on its way to the first attract frame (issue 10's cold start).

The seconds are `python -m bench`'s; this checks what they depend on and can be checked
exactly: the modules imported by the first frame of a real start (bench/cold_start.py, the
path `kiosk run` takes, offscreen, in a fresh process). Delivery (requests), the outbox's
schema maker (sqlite-utils) once the outbox exists, the adapters a terminal has not got, the
reference back office and the libraries only a card read needs come later, or never.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from backoffice import RunningBackOffice
from kiosk.demo.enrolment import BackOfficeAccess

ROOT = Path(__file__).resolve().parent.parent

NEVER_BEFORE_THE_FIRST_FRAME = (
    "requests", "urllib3",  # the sync worker's and client's, on their threads, afterwards
    "numpy", "cv2", "stdnum", "construct", "escpos", "smartcard", "serial", "cups",
    "backoffice",  # a terminal's back office is another machine
    # Adapters' code: imported when a device is built from it (the profile's are simulators)
    "devices.id_reader.sam.reader", "devices.id_reader.pcsc.reader",
    "devices.locker.rs485.board", "devices.locker.rs485.frames",
    "devices.printer.escpos.printer", "devices.certificate_printer.cups.printer",
    "devices.camera.opencv.camera",
    # Tests' and scenes' stand-ins
    "devices.id_reader.fake", "devices.locker.fake", "devices.camera.fake",
    "devices.certificate_printer.fake",
)


def first_frame_modules(backoffice: RunningBackOffice, data: Path, out: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["BENCH_MODULES_TO"] = str(out)
    run = subprocess.run([sys.executable, "-m", "bench.cold_start", "kiosk", repr(time.time()),
                          backoffice.url, str(data)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert float(run.stdout.strip().splitlines()[-1]) > 0  # it reached its first frame
    return set(out.read_text().split())


def imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".")
                                                          for m in modules))


def test_a_restart_draws_its_first_frame_before_delivery_adapters_or_schema_code(
        tmp_path: Path, reference_backoffice: RunningBackOffice) -> None:
    data = tmp_path / "kiosk"
    BackOfficeAccess.of(reference_backoffice).enrol(data)
    first = first_frame_modules(reference_backoffice, data, tmp_path / "first.txt")
    again = first_frame_modules(reference_backoffice, data, tmp_path / "again.txt")

    # The path is the real one: profile, terminal, outbox, devices, screens, the CLI module.
    for needed in ("kiosk.config.profile", "kiosk.terminal", "offline_queue.outbox",
                   "devices.worker", "screens.shell", "screens.attract", "kiosk.cli.main"):
        assert needed in again
    assert imported(again, NEVER_BEFORE_THE_FIRST_FRAME) == []
    # The outbox's schema is made once, at the first start (sqlite-utils, which brings numpy
    # if it is installed), and only checked at every start after.
    assert "sqlite_utils" in first and "sqlite_utils" not in again
    assert imported(first, NEVER_BEFORE_THE_FIRST_FRAME) in ([], ["numpy"])


def test_the_ui_starts_deliveries_once_its_first_frame_is_drawn(
        tmp_path: Path, reference_backoffice: RunningBackOffice) -> None:
    data = tmp_path / "kiosk"
    BackOfficeAccess.of(reference_backoffice).enrol(data)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    run = subprocess.run([sys.executable, "-m", "tests.first_frame_app", str(data),
                          reference_backoffice.url],
                         capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    said = [line for line in run.stdout.splitlines() if not line.startswith("kiosk:")]
    # Not before the first frame (kiosk run reconciles, draws, then delivers), but then at once.
    assert said == ["first frame, delivering=False", "delivered"], run.stderr[-3000:]
