"""`kiosk queue drain` and `kiosk queue retry --all` on a terminal that is not running, and
one kiosk process per data directory: real processes, the reference back office on
loopback, the outbox on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backoffice import RunningBackOffice
from kiosk.config.errors import ConfigError
from kiosk.records.dir_lock import DataDirBusy, DataDirLock
from kiosk.terminal import open_outbox

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent


def kiosk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def application(i: int) -> bytes:
    return json.dumps({
        "tracking_no": f"SH-PD-0001-20261202-{i:08X}", "service_id": "household_proof",
        "terminal_id": "SH-PD-0001", "form": {}, "submitted_at": 1_796_169_600.0 + i,
        "citizen": {"id_number": "310115198001010024", "name": "王建国"}}).encode()


@pytest.fixture
def bo(reference_backoffice: RunningBackOffice) -> RunningBackOffice:
    return reference_backoffice


def crashed_terminal(data: Path, n: int) -> None:
    """An outbox as a terminal killed mid-sync leaves it: some envelopes in flight (their
    worker gone), some backing off for minutes, one parked by a proxy's 400 since mended."""
    data.mkdir(parents=True, exist_ok=True)
    outbox = open_outbox(data)
    try:
        for i in range(n):
            outbox.enqueue("application.submit", application(i), f"key-{i}")
        outbox.enqueue("staff.alert", b'{"terminal_id": "SH-PD-0001"}', "alert-1")
        claimed = outbox.claim(10, lease_s=3600)
        for env in claimed[:5]:
            outbox.retry_later(env.id, "HTTP 503", 900.0)
        outbox.park(claimed[5].id, "HTTP 400: <html>proxy error</html>")
    finally:
        outbox.close()


def stats(data: Path) -> dict[str, int]:
    outbox = open_outbox(data, recover_leases=False)
    try:
        s = outbox.stats()
    finally:
        outbox.close()
    return {"pending": s.pending, "in_flight": s.in_flight, "delivered": s.delivered,
            "parked": s.parked}


def test_drain_empties_a_crashed_terminals_outbox_exactly_once(bo: RunningBackOffice,
                                                               tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    crashed_terminal(data, 40)
    token = str(bo.secrets.token_file)
    done = kiosk("queue", "drain", "--data-dir", str(data), "--backoffice", bo.url,
                 "--token-file", token, "--json")
    assert done.returncode == 1, done.stderr  # the parked one is still there: not empty
    report = json.loads(done.stdout)
    assert (report["empty"], report["delivered"], report["pending"], report["parked"]) == \
        (False, 40, 0, 1)
    listed = json.loads(kiosk("queue", "list", "--state", "parked", "--json", "--data-dir",
                              str(data)).stdout)
    assert [e["last_error"] for e in listed] == ["HTTP 400: <html>proxy error</html>"]
    retried = kiosk("queue", "retry", "--all", "--data-dir", str(data))
    assert retried.returncode == 0 and "1 parked envelopes are pending again" in retried.stdout
    done = kiosk("queue", "drain", "--data-dir", str(data), "--backoffice", bo.url,
                 "--token-file", token)
    assert done.returncode == 0, done.stderr
    assert bo.store.counts() == {"applications": 40, "envelopes": 41, "events": 1}
    delivered = json.loads(kiosk("queue", "list", "--state", "delivered", "--limit", "100",
                                 "--json", "--data-dir", str(data)).stdout)
    assert len(delivered) == 41
    # The back office's answer is kept with each envelope.
    assert all(e["server_answer"].startswith("accepted") for e in delivered)


def test_drain_with_the_back_office_down_exits_1_with_the_counts(tmp_path: Path,
                                                                 bo: RunningBackOffice) -> None:
    data = tmp_path / "kiosk"
    crashed_terminal(data, 8)
    bo.stop()  # nothing listens on its port now
    started = time.monotonic()
    done = kiosk("queue", "drain", "--data-dir", str(data), "--backoffice", bo.url,
                 "--time-limit", "2", "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["delivered"], report["pending"], report["parked"]) == (0, 8, 1)
    assert "connection" in report["last_error"]
    assert time.monotonic() - started < 60
    assert stats(data)["pending"] == 8  # nothing lost, nothing left in flight


def test_a_second_process_on_a_data_directory_stops_naming_the_holder(tmp_path: Path,
                                                                      bo: RunningBackOffice
                                                                      ) -> None:
    data = tmp_path / "kiosk"
    crashed_terminal(data, 8)
    with DataDirLock(data):
        for args in (("queue", "drain", "--data-dir", str(data), "--backoffice", bo.url),
                     ("simulate", "--sessions", "1", "--data-dir", str(tmp_path))):
            done = kiosk(*args)
            assert done.returncode == 2
            (line,) = done.stderr.strip().splitlines()
            assert line == (f"kiosk: {data}: in use by another kiosk process (PID "
                            f"{os.getpid()}); stop it first")
        # A read-only look next to the running one is fine, and takes no lease.
        assert json.loads(kiosk("queue", "status", "--json", "--data-dir",
                                str(data)).stdout)["in_flight"] == 3
    assert stats(data)["delivered"] == 0


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from kiosk.records.dir_lock import DataDirLock; "
         "lock = DataDirLock(Path(sys.argv[1])); print('held', flush=True); time.sleep(60)",
         str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirBusy, match=f"PID {holder.pid}"):
            DataDirLock(tmp_path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    with DataDirLock(tmp_path):  # the kernel let go with the process
        assert (tmp_path / "kiosk.lock").read_text().strip() == str(os.getpid())
    assert isinstance(DataDirBusy("x"), ConfigError)  # one line at start, like every refusal


@pytest.mark.parametrize(("args", "said"), [
    (("backoffice", "--port", "70000"), "kiosk backoffice: Invalid value for '--port'"),
    (("simulate", "--sessions", "1", "--backoffice", "localhost:8640"),
     "kiosk simulate: Invalid value for '--backoffice': 'localhost:8640' is not an http"),
    (("queue", "drain", "--backoffice", "http://h:99999"),
     "kiosk queue drain: Invalid value for '--backoffice': 'http://h:99999' is not a usable"),
    (("queue", "drain", "--backoffice", "http://h", "--time-limit", "-1"),
     "kiosk queue drain: Invalid value for '--time-limit'"),
    (("queue", "retry"), "kiosk: name one parked envelope's id, or --all"),
])
def test_a_wrong_argument_is_one_line(args: tuple[str, ...], said: str, tmp_path: Path) -> None:
    done = kiosk(*args, "--data-dir", str(tmp_path)) if args[0] == "queue" else kiosk(*args)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(said), line


def test_a_profile_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "gbk.toml"
    bad.write_bytes('profile = "hall"\n[terminal]\nname = "浦东"\n'.encode("gbk"))
    done = kiosk("run", "--config", str(bad), "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"kiosk: {bad}: line 3: not UTF-8 text"), line


def test_the_embedded_back_office_keeps_its_files_under_the_data_directory_only(
        tmp_path: Path) -> None:
    from kiosk.config.profile import load_profile
    from kiosk.demo.simulate import run_simulation

    data = tmp_path / "sim"
    report = run_simulation(load_profile("gov-hall"), 2, data)
    assert report.delivered == 4  # each visit's application and its rating
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]  # nothing beside it
    bo = data / "backoffice"
    assert {"backoffice.sqlite3", "citizen-hash.key", "store.key", "terminal.token"} <= \
        {p.name for p in bo.iterdir()}
    assert all(p.stat().st_mode & 0o077 == 0 for p in bo.iterdir())
    # The terminal's directory is its own (0700), and so are the copies of what it was
    # enrolled with (0600).
    assert (data / "kiosk").stat().st_mode & 0o077 == 0
    for name in ("terminal.token", "citizen-hash.key"):
        assert (data / "kiosk" / name).stat().st_mode & 0o077 == 0
