"""The outbox and the back office under load, each figure beside a baseline measured in the
same run:

- enqueue latency with 0, 10,000 and 100,000 envelopes pending (the median of each, against
  the one at 0: flat means the pending ones cost nothing);
- draining 20,000 envelopes to a loopback back office in batches of 50 (SyncWorker.drain over
  HTTP), on SQLite and on PostgreSQL, against the same envelopes stored by the back office's
  own store in process, in the same batches (what HTTP, the codec and the outbox add);
- a fleet: 500 terminals (each its own outbox and HTTP session) of 20 envelopes each, 50 at a
  time, against two back-office processes on one PostgreSQL database: envelopes/s, p99 of a
  delivery, and the back office's count of each key (zero duplicates), against the single
  SQLite drain above;
- 10,000 headless sessions through one terminal (session machine, outbox, sync worker, the
  loopback back office), its resident memory after the first 500 and after the last.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DRAIN = int(os.environ.get("BENCH_DRAIN", "20000"))
FLEET_TERMINALS = int(os.environ.get("BENCH_FLEET_TERMINALS", "500"))
FLEET_ENVELOPES = int(os.environ.get("BENCH_FLEET_ENVELOPES", "20"))
RSS_SESSIONS = int(os.environ.get("BENCH_RSS_SESSIONS", "10000"))


def _application(i: int, terminal: str = "SH-PD-0001") -> bytes:
    return json.dumps({
        "tracking_no": f"{terminal}-20261202-{i:08X}", "service_id": "household_proof",
        "terminal_id": terminal, "form": {"copies": "1"}, "submitted_at": 1.8e9 + i,
        "citizen": {"id_number": f"1101011980071{i % 10000:04d}0", "name": "王芳"}},
        ensure_ascii=False).encode()


def _prefill(path: Path, n: int) -> None:
    """n pending envelopes, written in one transaction (setting up, not measured)."""
    from offline_queue import Outbox

    Outbox(path).close()  # its schema
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        now = time.time()
        conn.executemany(
            "INSERT INTO envelopes (idempotency_key, kind, payload, created_at, attempts,"
            " status, next_attempt_at) VALUES (?, 'application.submit', ?, ?, 0, 'pending', ?)",
            ((uuid.uuid4().hex, os.urandom(300), now, now) for _ in range(n)))


def enqueue_latency(tmp: Path, pending: Sequence[int] = (0, 10_000, 100_000),
                    samples: int = 100, rounds: int = 6) -> dict[str, float]:
    """Median enqueue latency into outboxes holding `pending` envelopes, the outboxes taken in
    turn in every round (so that each meets the disk's same moods)."""
    from offline_queue import Outbox

    tmp.mkdir(parents=True, exist_ok=True)
    outboxes = {}
    for n in pending:
        _prefill(tmp / f"latency-{n}.db", n)
        outboxes[n] = Outbox(tmp / f"latency-{n}.db")
    payload = os.urandom(300)
    times: dict[int, list[float]] = {n: [] for n in pending}
    for _ in range(rounds):
        for n, outbox in outboxes.items():
            for _ in range(samples):
                start = time.perf_counter()
                outbox.enqueue("application.submit", payload, uuid.uuid4().hex)
                times[n].append(time.perf_counter() - start)
    for outbox in outboxes.values():
        outbox.close()
    return {str(n): statistics.median(t) for n, t in times.items()}


def _outbox_of(path: Path, n: int, terminal: str = "SH-PD-0001", start: int = 0) -> Any:
    from offline_queue import Outbox

    outbox = Outbox(path)
    for i in range(start, start + n):
        outbox.enqueue("application.submit", _application(i, terminal), f"{terminal}-{i}")
    return outbox


def _in_process_store_rate(tmp: Path, n: int, database: str | None) -> float:
    """The baseline: the back office's store taking the same envelopes in batches of 50,
    in process (no HTTP, no outbox)."""
    from backoffice.db import Databases
    from backoffice.secrets import BackOfficeSecrets
    from backoffice.store import BackOfficeStore

    keys = BackOfficeSecrets(tmp)
    dbs = Databases(tmp, database)
    store = BackOfficeStore(dbs.open("baseline.sqlite3"), citizen_hash=keys.citizen_hash,
                            cipher=keys.fernet)
    batches = [[(f"b-{i}", "application.submit", _application(i))
                for i in range(j, min(n, j + 50))] for j in range(0, n, 50)]
    start = time.perf_counter()
    for batch in batches:
        store.accept_many(batch)
    rate = n / (time.perf_counter() - start)
    dbs.close()
    return rate


def drain_rate(tmp: Path, n: int, database: str | None = None,
               baseline_database: str | None = None) -> dict[str, float]:
    """SyncWorker.drain of `n` envelopes to a `kiosk backoffice` process of its own (as a
    terminal and its back office are), against the same envelopes stored in process."""
    import requests

    from offline_queue import HttpTransport, SyncWorker

    (tmp / "baseline").mkdir(parents=True, exist_ok=True)
    baseline = _in_process_store_rate(tmp / "baseline", n, baseline_database)
    outbox = _outbox_of(tmp / "drain.db", n)
    try:
        with _backoffice_processes(1, tmp / "bo", database) as (url,):
            token = (tmp / "bo" / "terminal.token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            worker = SyncWorker(outbox, HttpTransport(url + "/v1/envelopes", headers=headers),
                                batch_size=50)
            start = time.perf_counter()
            assert worker.drain(600), "not drained"
            rate = n / (time.perf_counter() - start)
            stats = requests.get(url + "/v1/stats", headers=headers, timeout=10).json()
            assert stats["applications"] == n, stats
    finally:
        outbox.close()
    return {"drain_per_s": rate, "store_in_process_per_s": baseline,
            "ratio": rate / baseline}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _backoffice_processes(count: int, data: Path, database: str | None
                          ) -> Iterator[list[str]]:
    import requests

    procs, urls = [], []
    try:
        for _ in range(count):
            port = _free_port()
            engine = ["--database", database] if database else []
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "backoffice", "--port", str(port),
                 "--data-dir", str(data), *engine], cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
            time.sleep(0.5)  # the first makes the keys; the second reads them
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(url + "/v1/health", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("a back-office process did not start")
                time.sleep(0.1)
        yield urls
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)


class _TimedTransport:
    def __init__(self, inner: Any, times: list[float], lock: threading.Lock) -> None:
        self._inner, self._times, self._lock = inner, times, lock

    def deliver(self, batch: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._inner.deliver(batch)
        finally:
            with self._lock:
                self._times.append(time.perf_counter() - start)


def fleet(tmp: Path, database: str, terminals: int, per_terminal: int) -> dict[str, float]:
    """`terminals` outboxes of `per_terminal` envelopes, 50 terminals delivering at a time,
    alternately to two back-office processes on one PostgreSQL database."""
    import psycopg

    from offline_queue import HttpTransport, SyncWorker

    outboxes = [_outbox_of(tmp / f"t{t}.db", per_terminal, f"SH-PD-{t:04d}")
                for t in range(terminals)]
    times: list[float] = []
    lock = threading.Lock()
    with _backoffice_processes(2, tmp / "bo", database) as urls:
        token = (tmp / "bo" / "terminal.token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}

        def terminal(t: int) -> bool:
            transport = _TimedTransport(HttpTransport(urls[t % 2] + "/v1/envelopes",
                                                      headers=headers), times, lock)
            return SyncWorker(outboxes[t], transport, batch_size=50, base_delay_s=0.05,
                              max_delay_s=1.0).drain(300)

        start = time.perf_counter()
        with ThreadPoolExecutor(50) as pool:
            drained = list(pool.map(terminal, range(terminals)))
        seconds = time.perf_counter() - start
    for ob in outboxes:
        ob.close()
    with psycopg.connect(database) as conn:
        (stored,) = conn.execute("SELECT COUNT(*) FROM envelopes").fetchone()
        (distinct,) = conn.execute(
            "SELECT COUNT(DISTINCT idempotency_key) FROM envelopes").fetchone()
        (apps,) = conn.execute("SELECT COUNT(*) FROM applications").fetchone()
    total = terminals * per_terminal
    times.sort()
    return {"envelopes": total, "all_drained": all(drained), "stored": stored,
            "duplicates": stored - distinct, "applications": apps,
            "per_s": total / seconds, "p99_s": times[int(len(times) * 0.99) - 1],
            "median_s": statistics.median(times), "deliveries": len(times)}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _InstantVerdict:
    """The back office's face verdict, answered in process (dlib's 130 ms a face would make
    10,000 sessions take half an hour; the terminal's side of the call is what is measured)."""

    def verify_face(self, document_number: str, live_frame: bytes,
                    document_photo: bytes | None = None) -> Any:
        from kiosk.session.ports import FaceAnswer

        return FaceAnswer(decision="match", distance=0.1)


def sessions_memory(tmp: Path, sessions: int) -> dict[str, float]:
    """RSS of one terminal after its first 500 sessions and after `sessions`; every session's
    application delivered once."""
    from backoffice import start_in_thread
    from kiosk.config.catalogue import Intent
    from kiosk.config.profile import load_profile
    from kiosk.config.settings import Timings
    from kiosk.demo.enrolment import BackOfficeAccess
    from kiosk.demo.simulate import run_one_session, simulated_profile
    from kiosk.session.steps import InlineSteps
    from kiosk.terminal import Terminal, TerminalOptions

    bo = start_in_thread("127.0.0.1", 0, tmp / "bo")
    token, key = BackOfficeAccess.of(bo).enrol(tmp / "kiosk")
    terminal = Terminal(simulated_profile(load_profile("gov-hall"), tmp), TerminalOptions(
        data_dir=tmp / "kiosk", backoffice_url=bo.url, timings=Timings.instant(),
        steps=InlineSteps(), token_file=token, citizen_key_file=key))
    terminal.session.d.faces = _InstantVerdict()  # type: ignore[assignment]
    services = [s for s in terminal.services if s.intent is Intent.APPLY and s.issues is None]
    tracking: list[str] = []
    warm = min(500, sessions)
    try:
        terminal.start()
        for n in range(sessions):
            if n == warm:
                assert terminal.sync.wait_until_drained(120)
                after_warm = _rss_mb()
            done = run_one_session(terminal, services[n % len(services)], n)
            if done is not None:
                tracking.append(done)
        assert terminal.sync.wait_until_drained(300)
        after_all = _rss_mb()
        counts = bo.store.counts()
    finally:
        terminal.stop()
        bo.stop()
    return {"sessions": sessions, "completed": len(tracking), "unique": len(set(tracking)),
            "at_backoffice": counts["applications"], "rss_after_warmup_mb": after_warm,
            "rss_after_all_mb": after_all, "growth_mb": after_all - after_warm}


def measure(tmp: Path) -> dict[str, Any]:
    from kiosk.demo.postgres import postgres_server

    random.seed(1)
    results: dict[str, Any] = {"enqueue_latency_s": enqueue_latency(tmp / "latency")}
    (tmp / "sqlite").mkdir()
    results["drain_sqlite"] = drain_rate(tmp / "sqlite", DRAIN)
    with postgres_server(fsync=True, max_connections=200) as pg:
        (tmp / "pg").mkdir()
        results["drain_postgresql"] = drain_rate(tmp / "pg", DRAIN, pg.create_database("drain"),
                                                 pg.create_database("drain_baseline"))
        (tmp / "fleet").mkdir()
        results["fleet"] = fleet(tmp / "fleet", pg.create_database("fleet"),
                                 FLEET_TERMINALS, FLEET_ENVELOPES)
    (tmp / "rss").mkdir()
    results["sessions_memory"] = sessions_memory(tmp / "rss", RSS_SESSIONS)
    return results


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as d:
        print(json.dumps(measure(Path(d)), indent=2))
