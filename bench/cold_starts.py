"""The cold start's figures, from the bench's side: fresh processes of bench/cold_start.py
(the kiosk, a bare Kivy app with one label, a bare Kivy app drawing a copy of the attract
screen) taken in turn, and what pydantic alone costs a fresh process.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kiosk", "backoffice", "devices", "offline_queue", "provisioning", "screens", "bench")


def compile_sources() -> None:
    """The project's modules byte-compiled, as an install leaves them (scripts/bootstrap.sh
    does it; Kivy's own are compiled by pip), so no cold start pays for compiling them."""
    import compileall

    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


class ColdStarts:
    """Fresh processes to their first drawn frame. The kiosk's back office runs here, in the
    parent, as a hall terminal's runs elsewhere. Each kiosk figure is a restart: a fresh
    enrolled data directory that one start, not measured, has already run on (as every start
    of a terminal but its very first after enrolment finds it); `first_starts` keeps those
    first ones' figures."""

    def __init__(self) -> None:
        from backoffice.running import start_in_thread

        self.tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-cold-"))
        self.backoffice = start_in_thread("127.0.0.1", 0, self.tmp / "backoffice")
        self.runs = 0
        self.first_starts: list[float] = []

    def __enter__(self) -> ColdStarts:
        return self

    def __exit__(self, *_: object) -> None:
        self.backoffice.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __call__(self, which: str) -> float:
        """A cold start of `bare` (one label), `screen` (a copy of the attract screen, once a
        kiosk start has drawn it) or `kiosk`."""
        from kiosk.demo.enrolment import BackOfficeAccess

        if which == "bare":
            return self._run("bare")
        if which == "screen":
            return self._run("screen", str(self.spec))
        self.runs += 1
        data = self.tmp / f"kiosk{self.runs}"
        BackOfficeAccess.of(self.backoffice).enrol(data)
        self.first_starts.append(self._run("kiosk", self.backoffice.url, str(data),
                                           spec_to=self.spec))
        return self._run("kiosk", self.backoffice.url, str(data))

    @property
    def spec(self) -> Path:
        return self.tmp / "attract-copy.json"

    @staticmethod
    def _run(which: str, *args: str, spec_to: Path | None = None) -> float:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        if spec_to is not None:
            env["BENCH_SPEC_TO"] = str(spec_to)
        t0 = time.time()
        out = subprocess.run([sys.executable, "-m", "bench.cold_start", which, repr(t0), *args],
                             capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        return float(out.stdout.strip().splitlines()[-1])


PYDANTIC_FIRST_MODEL = """\
import os, time
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
started = time.perf_counter()
from pydantic import BaseModel
class M(BaseModel):
    x: int = 0
M(x=1)
print(time.perf_counter() - started)
"""


def pydantic_floor(runs: int) -> float:
    """What pydantic alone costs a fresh process (importing it and validating one model,
    timed inside it; the median): a part of the kiosk's cold start that no work of its own
    removes while its configuration is pydantic's."""
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", PYDANTIC_FIRST_MODEL], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout)
        for _ in range(runs))


@dataclass(frozen=True)
class ColdStartFigures:
    bare_s: float  # a bare Kivy app, one label: the target's baseline
    kiosk_s: float  # the kiosk's restart
    first_start_s: float  # the kiosk's first start after enrolment (its outbox made)
    screen_s: float  # a bare Kivy app drawing a copy of the attract screen

    @property
    def ratio(self) -> float:
        return self.kiosk_s / self.bare_s


def cold_start_ratio(runs: int) -> ColdStartFigures:
    """Medians of `runs` cold starts of each, taken in turn."""
    compile_sources()
    runs_of: dict[str, list[float]] = {"bare": [], "kiosk": [], "screen": []}
    with ColdStarts() as start:
        for _ in range(runs):
            for which in runs_of:  # the kiosk's first start writes the screen's copy
                runs_of[which].append(start(which))
        first = statistics.median(start.first_starts)
    bare, kiosk, screen = (statistics.median(runs_of[w]) for w in ("bare", "kiosk", "screen"))
    return ColdStartFigures(bare, kiosk, first, screen)
