"""A real CUPS daemon with a virtual A4 printer, for the tests and the demo.

`CupsPeer` starts its own `cupsd` (Debian's cups-daemon) on a socket in a directory of its
own, never the machine's CUPS, with one raw queue whose backend (`kioskpdf`, a shell script
written at start) takes each job's PDF as a printer would and drops it into `out_dir`. The
backend behaves as printers do through CUPS backends: told the tray is empty or a cover open,
it reports `STATE: +media-empty-error` (or `cover-open-error`) and stops the queue, keeping the
job; told to be silent, it reports `offline-report` and never finishes; `runs_out` takes the
job and runs out of paper half way. Tests read the PDFs back (pypdf) and never the bytes the
adapter sent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

QUEUE = "kiosk-a4"
CUPSD = "/usr/sbin/cupsd"
SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
STATES = ("ok", "low", "out", "cover_open", "silent", "runs_out")

# argv: job-id user title copies options [file]; without arguments, say what it is.
_BACKEND = """#!/bin/sh
if [ $# -eq 0 ]; then echo 'direct kioskpdf "Kiosk" "Kiosk virtual A4 printer"'; exit 0; fi
dir="${DEVICE_URI#kioskpdf:}"
state=$(cat "$dir/.state" 2>/dev/null || echo ok)
doc="${6:-/dev/stdin}"
echo "STATE: -media-empty-error,cover-open-error,media-low-warning,offline-report" >&2
case "$state" in
  out) echo "STATE: +media-empty-error" >&2; echo "ERROR: the A4 tray is empty" >&2; exit 4 ;;
  cover_open) echo "STATE: +cover-open-error" >&2; echo "ERROR: front cover open" >&2; exit 4 ;;
  silent) echo "STATE: +offline-report" >&2
          while :; do sleep 1; done ;;
  runs_out) cat "$doc" > "$dir/job-$1.partial"
            echo "STATE: +media-empty-error" >&2; echo "ERROR: the A4 tray is empty" >&2
            exit 4 ;;
  low) echo "STATE: +media-low-warning" >&2 ;;
esac
cat "$doc" > "$dir/.job-$1.pdf" && mv "$dir/.job-$1.pdf" "$dir/job-$1.pdf"
"""


class CupsPeer:
    """`out_dir` is where the printed PDFs go (a temporary directory if not given)."""

    def __init__(self, out_dir: Path | None = None, *, start_timeout_s: float = 15.0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-cups-"))
        self.out_dir = out_dir or self.root / "out"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.socket = str(self.root / "cups.sock")
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._configure()
        self.start()
        conn = self.connection()
        conn.addPrinter(QUEUE, device=f"kioskpdf:{self.out_dir}", info="Kiosk virtual A4")
        conn.enablePrinter(QUEUE)
        conn.acceptJobs(QUEUE)
        self.set("ok")

    def _configure(self) -> None:
        r = self.root
        for d in ("etc", "spool", "cache", "state", "tmp", "log", "bin/backend", "bin/filter"):
            (r / d).mkdir(parents=True, exist_ok=True)
        for d in ("daemon", "notifier"):
            (r / "bin" / d).symlink_to(SYSTEM_SERVER_BIN / d)
        backend = r / "bin/backend/kioskpdf"
        backend.write_text(_BACKEND)
        backend.chmod(0o700)  # 0700: CUPS runs it as root, so it can write into out_dir
        (r / "etc/cups-files.conf").write_text(
            f"ServerRoot {r}/etc\nServerBin {r}/bin\nRequestRoot {r}/spool\n"
            f"CacheDir {r}/cache\nStateDir {r}/state\nTempDir {r}/tmp\n"
            f"ErrorLog {r}/log/error_log\nAccessLog {r}/log/access_log\n"
            f"PageLog {r}/log/page_log\nDataDir /usr/share/cups\nSystemGroup root\n"
            "FileDevice No\n")
        (r / "etc/cupsd.conf").write_text(
            f"Listen {self.socket}\nLogLevel warn\nBrowsing No\nWebInterface No\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")

    def start(self) -> None:
        if self._proc is not None:
            return
        r = self.root
        self._proc = subprocess.Popen(
            [CUPSD, "-f", "-c", f"{r}/etc/cupsd.conf", "-s", f"{r}/etc/cups-files.conf"],
            stdout=subprocess.DEVNULL, stderr=(r / "log/stderr").open("ab"))
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"cupsd exited: {(r / 'log/stderr').read_text()[-500:]}")
            try:
                self.connection().getPrinters()
                return
            except RuntimeError:
                time.sleep(0.05)
        raise RuntimeError(f"cupsd did not answer within {self._start_timeout_s:g} s")

    def stop(self) -> None:
        """cupsd goes away (the terminal's CUPS crashed or was stopped)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def connection(self) -> Any:
        import cups

        return cups.Connection(host=self.socket)

    def set(self, state: str) -> None:
        """What the printer will do with the next job: one of STATES."""
        if state not in STATES:
            raise ValueError(f"unknown printer state {state!r} (one of {', '.join(STATES)})")
        (self.out_dir / ".state").write_text(state)

    def restart_queue(self) -> None:
        """What a technician does with `cupsenable` once the tray is refilled."""
        self.connection().enablePrinter(QUEUE)

    @property
    def printed(self) -> list[bytes]:
        """The PDFs that came out, in job order."""
        jobs = sorted(self.out_dir.glob("job-*.pdf"), key=lambda p: int(p.stem[4:]))
        return [p.read_bytes() for p in jobs]

    def jobs(self) -> dict[int, Any]:
        """Every job CUPS still knows (the adapter purges its own)."""
        return dict(self.connection().getJobs(which_jobs="all"))

    def spool(self) -> list[str]:
        return sorted(p.name for p in (self.root / "spool").iterdir() if p.is_file())

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CupsPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
