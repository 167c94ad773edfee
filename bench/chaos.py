"""Chaos runs of the outbox as an outsider would try it: `kiosk simulate` killed with -9 at
random moments, over and over on one terminal's data directory, then `kiosk queue drain`;
and `kiosk simulate` delivering through a proxy that injects faults (503 before the back
office sees the request, the connection dropped after it committed, garbage bodies, slow
answers). Afterwards every envelope the outbox ever held must be at the back office exactly
once, and both databases pass `PRAGMA integrity_check`.

    python -m bench.chaos --trials 1000 [--seed S] [--proxy-sessions N]

The suite runs the same with fewer trials (tests/test_chaos.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from backoffice import RunningBackOffice, start_in_thread
from backoffice.server import DB_FILE

ROOT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk.cli"]


@dataclass
class ChaosReport:
    trials: int = 0
    envelopes: int = 0  # what the outbox ever held
    at_backoffice: int = 0  # of them, at the back office
    missing: int = 0
    unknown_at_backoffice: int = 0  # at the back office, never in the outbox
    applications: int = 0  # at the back office
    application_envelopes: int = 0  # in the outbox (the rest are events: staff calls...)
    visit_envelopes: int = 0  # applications and ratings (not the audit log's checkpoints)
    drained: bool = False
    integrity: str = ""
    faults: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.drained and self.missing == 0 and self.unknown_at_backoffice == 0
                and self.envelopes == self.at_backoffice and self.integrity == "ok ok"
                and self.applications == self.application_envelopes)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _enrolment(bo: RunningBackOffice) -> list[str]:
    return ["--backoffice", bo.url, "--token-file", str(bo.secrets.token_file),
            "--citizen-key-file", str(bo.secrets.citizen_key_file)]


def _drain(data: Path, url: str, bo: RunningBackOffice, time_limit_s: float) -> bool:
    done = subprocess.run([*KIOSK, "queue", "drain", "--data-dir", str(data), "--backoffice",
                           url, "--token-file", str(bo.secrets.token_file), "--time-limit",
                           str(time_limit_s), "--json"], capture_output=True, text=True,
                          timeout=time_limit_s + 120, cwd=ROOT)
    return done.returncode == 0


def _account(report: ChaosReport, data: Path, bo: RunningBackOffice) -> ChaosReport:
    """Every key the outbox holds against every key the back office holds."""
    outbox_db = data / "kiosk" / "outbox.db"
    with contextlib.closing(sqlite3.connect(outbox_db)) as conn:
        held = {row[0] for row in conn.execute("SELECT idempotency_key FROM envelopes")}
        (report.application_envelopes,) = conn.execute(
            "SELECT COUNT(*) FROM envelopes WHERE kind = 'application.submit'").fetchone()
        (report.visit_envelopes,) = conn.execute(
            "SELECT COUNT(*) FROM envelopes WHERE kind IN ('application.submit',"
            " 'visit.rating')").fetchone()
        (outbox_ok,) = conn.execute("PRAGMA integrity_check").fetchone()
    with contextlib.closing(sqlite3.connect(bo.secrets.data_dir / DB_FILE)) as conn:
        stored = {row[0] for row in conn.execute("SELECT idempotency_key FROM envelopes")}
        (store_ok,) = conn.execute("PRAGMA integrity_check").fetchone()
        (applications,) = conn.execute("SELECT COUNT(*) FROM applications").fetchone()
    report.envelopes, report.at_backoffice = len(held), len(held & stored)
    report.missing, report.unknown_at_backoffice = len(held - stored), len(stored - held)
    report.applications = int(applications)
    report.integrity = f"{outbox_ok} {store_ok}"
    return report


def kill_trials(root: Path, trials: int, seed: int, *, alive_s: tuple[float, float] = (1.2, 3.2),
                drain_s: float = 120.0) -> ChaosReport:
    """`trials` runs of `kiosk simulate` on one data directory, each killed with -9 after a
    random time; then `kiosk queue drain`."""
    rng = random.Random(seed)
    started = time.monotonic()
    bo = start_in_thread("127.0.0.1", 0, root / "backoffice")
    data = root / "terminal"
    report = ChaosReport(trials=trials)
    try:
        for _ in range(trials):
            proc = subprocess.Popen(
                [*KIOSK, "simulate", "--sessions", "100000", *_enrolment(bo), "--data-dir",
                 str(data), "--time-limit", "3600"], cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(*alive_s))  # a random moment of its life
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        report.drained = _drain(data, bo.url, bo, drain_s)
        _account(report, data, bo)
    finally:
        bo.stop()
    report.seconds = round(time.monotonic() - started, 1)
    return report


class FaultProxy:
    """Between terminals and the back office: of the POSTs to /v1/envelopes, `rate` get a
    fault, in equal shares: a 503 before the back office sees them, the connection dropped
    after it committed them, a 200 with a garbage body (after it committed them), or a slow
    answer. Everything else passes through untouched."""

    FAULTS = ("503_before_commit", "dropped_after_commit", "garbage_after_commit", "slow")

    def __init__(self, upstream: str, rate: float, seed: int, slow_s: tuple[float, float]
                 = (0.3, 1.5)) -> None:
        self.upstream, self.rate, self.slow_s = upstream, rate, slow_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = dict.fromkeys((*self.FAULTS, "passed"), 0)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy.relay(self, "GET", b"")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                proxy.relay(self, "POST", body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._session = requests.Session()
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def _pick(self, path: str, method: str) -> str:
        if method != "POST" or not path.startswith("/v1/envelopes"):
            return "passed"
        with self._lock:
            fault = self._rng.choice(self.FAULTS) if self._rng.random() < self.rate \
                else "passed"
            self.counts[fault] += 1
            pause = self._rng.uniform(*self.slow_s)
        return fault if fault != "slow" else f"slow:{pause}"

    def relay(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        fault = self._pick(handler.path, method)
        if fault == "503_before_commit":
            self._answer(handler, 503, b'{"error": "injected"}')
            return
        if fault.startswith("slow:"):
            time.sleep(float(fault.split(":")[1]))
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() in ("authorization", "content-type")}
        try:
            answer = self._session.request(method, self.upstream + handler.path, data=body,
                                           headers=headers, timeout=60)
        except requests.RequestException:
            self._answer(handler, 502, b'{"error": "upstream"}')
            return
        if fault == "dropped_after_commit":
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if fault == "garbage_after_commit":
            self._answer(handler, 200, b"\x00garbage{{{" + os.urandom(16))
            return
        self._answer(handler, answer.status_code, answer.content)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, code: int, body: bytes) -> None:
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def fault_proxy(upstream: str, rate: float, seed: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, rate, seed)
    try:
        yield proxy
    finally:
        proxy.stop()


def proxy_run(root: Path, sessions: int, seed: int, rate: float = 0.3,
              drain_s: float = 180.0) -> ChaosReport:
    """`kiosk simulate` through the fault proxy, then `kiosk queue drain` through it too."""
    started = time.monotonic()
    bo = start_in_thread("127.0.0.1", 0, root / "backoffice")
    data = root / "terminal"
    report = ChaosReport(trials=1)
    try:
        with fault_proxy(bo.url, rate, seed) as proxy:
            args = _enrolment(bo)
            args[1] = proxy.url
            subprocess.run([*KIOSK, "simulate", "--sessions", str(sessions), *args,
                            "--data-dir", str(data), "--time-limit", str(drain_s)],
                           capture_output=True, timeout=drain_s + 120, cwd=ROOT)
            report.drained = _drain(data, proxy.url, bo, drain_s)
            report.faults = dict(proxy.counts)
        _account(report, data, bo)
    finally:
        bo.stop()
    report.seconds = round(time.monotonic() - started, 1)
    return report


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--proxy-sessions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiosk-chaos-") as tmp:
        kills = kill_trials(Path(tmp) / "kill", args.trials, args.seed)
        print(json.dumps({"kill -9": kills.as_dict()}), flush=True)
        proxied = proxy_run(Path(tmp) / "proxy", args.proxy_sessions, args.seed)
        print(json.dumps({"fault proxy 30%": proxied.as_dict()}), flush=True)
    sys.exit(0 if kills.ok and proxied.ok else 1)


if __name__ == "__main__":
    main()
