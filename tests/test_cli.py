"""The `kiosk` command as technicians and scripts use it: real processes, real loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk.cli"]


def kiosk(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KIOSK, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check, limit_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)  # waiting on another process: there is no clock of ours to advance
    raise AssertionError(f"{what} did not happen within {limit_s} s")


@pytest.fixture
def backoffice_process(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([*KIOSK, "backoffice", "--port", str(port), "--data-dir",
                             str(tmp_path / "bo")], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(url + "/v1/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(healthy, 30, "back office start")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_simulate_200_sessions_back_office_holds_exactly_200(
    backoffice_process: str, tmp_path: Path
) -> None:
    bo = tmp_path / "bo"  # what its first start made for terminals: enrolled with these
    done = kiosk("simulate", "--sessions", "200", "--json", "--backoffice", backoffice_process,
                 "--token-file", str(bo / "terminal.token"), "--citizen-key-file",
                 str(bo / "citizen-hash.key"), "--data-dir", str(tmp_path / "sim"))
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["sessions_completed"] == 200
    token = (bo / "terminal.token").read_text().strip()
    # Each visit: its application and its 好差评 rating; and the audit log's signed checkpoints
    # (one every 500 records), which the back office holds.
    held = len(requests.get(backoffice_process + "/v1/audit-checkpoints", timeout=5,
                            params={"terminal": "SH-PD-0001"},
                            headers={"Authorization": f"Bearer {token}"}).json()["checkpoints"])
    assert held >= 2
    assert report["envelopes_enqueued"] == 400 + held
    assert report["delivered"] == 400 + held and report["failed"] == 0
    assert report["pending"] == 0
    stats = requests.get(backoffice_process + "/v1/stats", timeout=5,
                         headers={"Authorization": f"Bearer {token}"}).json()
    assert stats["applications"] == 200
    ratings = requests.get(backoffice_process + "/v1/ratings", timeout=5,
                           headers={"Authorization": f"Bearer {token}"}).json()
    assert ratings["summary"]["count"] == 200  # every level in turn: 40 of each
    assert ratings["summary"]["by_level"] == {str(level): 40 for level in range(1, 6)}
    followups = requests.get(backoffice_process + "/v1/followups", timeout=5,
                             headers={"Authorization": f"Bearer {token}"}).json()
    assert len(followups["followups"]) == 80  # levels 1 and 2 open one each
    status = kiosk("queue", "status", "--json", "--data-dir", str(tmp_path / "sim"))
    assert json.loads(status.stdout)["delivered"] == 400 + held


def test_simulate_with_back_office_down_keeps_everything_pending(tmp_path: Path) -> None:
    from kiosk.records.citizen_key import CitizenKey

    dead = f"http://127.0.0.1:{free_port()}"
    key = tmp_path / "citizen-hash.key"
    CitizenKey.random().write(key)
    done = kiosk("simulate", "--sessions", "5", "--json", "--backoffice", dead, "--time-limit",
                 "3", "--citizen-key-file", str(key), "--data-dir", str(tmp_path / "sim"))
    assert done.returncode == 1  # not drained: said by the exit code
    report = json.loads(done.stdout)
    assert report["sessions_completed"] == 5 and report["delivered"] == 0
    assert report["pending"] == 10 and report["failed"] == 0  # applications and ratings


def test_run_with_broken_profile_stops_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('profile = "x"\n[terminal]\nid = "T-1"\n', encoding="utf-8")
    done = kiosk("run", "--config", str(bad), "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "terminal.name" in lines[0]


def test_run_never_falls_back_to_simulators_for_missing_devices(tmp_path: Path) -> None:
    # gov-hall as shipped, but with a token file that is surely not there, so that the start
    # stops with its one line after the devices were built and asked (never the UI).
    token = tmp_path / "no-token"
    shipped = (ROOT / "kiosk/config/profiles/gov-hall.toml").read_text(encoding="utf-8")
    profile = tmp_path / "gov-hall.toml"
    profile.write_text(shipped.replace("/etc/kiosk/terminal-token", str(token)),
                       encoding="utf-8")
    # PC/SC asks a pcscd that is not there: the tests' own pcscd is left alone.
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    done = subprocess.run([*KIOSK, "run", "--config", str(profile), "--data-dir",
                           str(tmp_path / "d")], capture_output=True, text=True, timeout=180,
                          cwd=ROOT, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"kiosk: backoffice.token_file: {token} cannot be read: No such file or directory")
    # The production locker adapter looked for its boards' port and said it is not there.
    assert "locker: offline (not_connected) /dev/ttyUSB0: cannot open" in done.stderr


def test_queue_status_of_a_directory_without_outbox_fails_clearly(tmp_path: Path) -> None:
    done = kiosk("queue", "status", "--data-dir", str(tmp_path))
    assert done.returncode == 2 and "no outbox here" in done.stderr


@pytest.mark.slow
@pytest.mark.ui
def test_demo_starts_offscreen_and_a_simulated_citizen_submits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen([*KIOSK, "demo", "--data-dir", str(tmp_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    audit = tmp_path / "kiosk" / "audit.jsonl"
    failed: AssertionError | None = None
    try:
        # The first visit is a household proof: issued by the embedded back office, printed
        # through the CUPS adapter to the virtual A4 printer behind the demo's own cupsd.
        wait_for(lambda: audit.exists() and "certificate_printed" in audit.read_text(), 120,
                 "a demo certificate")
        wait_for(lambda: "application_queued" in audit.read_text(), 120, "a demo application")
        # The second visit identifies by the phone's QR code (issued by the embedded back
        # office, verified offline by the camera's identity source).
        wait_for(lambda: '"kind": "qr_code"' in audit.read_text(), 120, "a QR identification")
        # The third, by a passport on the PC/SC reader (a virtual chip under pcscd), whose
        # details the demo citizen types when the screen asks for them.
        wait_for(lambda: '"kind": "passport"' in audit.read_text(), 120, "a passport")
        # The third visit is also a collection (the passport holder's certificate waits in the
        # locker): its door opened through the RS-485 adapter on the lock boards' peer, the
        # demo citizen took the certificate and closed the door, and the sensors said so.
        wait_for(lambda: '"event": "locker_item_collected"' in audit.read_text(), 120,
                 "a collection from the locker")
        # Every face is dlib's verdict against the photo on file (or the passport's own).
        wait_for(lambda: audit.read_text().count('"event": "face_matched"') >= 3, 60,
                 "the passport holder's face matched")
        wait_for(lambda: (tmp_path / "kiosk" / "screen.png").exists(), 30, "a live screen PNG")
    except AssertionError as e:
        failed = e
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    if failed is not None:  # say what the demo did, so that a failure can be understood
        events = [json.loads(line) for line in audit.read_text().splitlines()] \
            if audit.exists() else []
        said = [" ".join(str(v) for k, v in e.items() if k not in ("at", "level"))
                for e in events if e.get("event") != "device_status_changed"]
        raise AssertionError(f"{failed}\naudit: {said[-25:]}\nstderr: {err[-2500:]}")
    assert proc.returncode == 0, err[-3000:]
    assert "drawing offscreen" in out and "SAM reader peer on /dev/pts/" in out
    assert "PC/SC on Virtual PCD 00 00" in out
    assert '"kind": "resident_id"' in audit.read_text()  # read through the SAM adapter
    # Receipts went through the ESC/POS adapter to the printer's wire peer, which drew them.
    assert "receipts print to the ESC/POS peer on 127.0.0.1:" in out
    assert list((tmp_path / "printed").glob("receipt-*.png"))
    assert "certificates print through CUPS" in out
    assert "the locker's boards answer on /dev/pts/" in out
    certificates = list((tmp_path / "certificates").glob("job-*.pdf"))
    assert certificates and all(c.read_bytes().startswith(b"%PDF") for c in certificates)


def test_corrupt_outbox_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "outbox.db").write_bytes(b"this is not a database" * 100)
    done = kiosk("queue", "status", "--data-dir", str(data))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "outbox cannot be opened" in done.stderr


def test_back_office_with_unreadable_token_file_is_one_line(tmp_path: Path) -> None:
    done = kiosk("backoffice", "--port", str(free_port()), "--token-file",
                 str(tmp_path / "nope"), "--data-dir", str(tmp_path / "bo"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"kiosk: backoffice.token_file: {tmp_path / 'nope'} cannot be read: "
        "No such file or directory"]


def test_device_list_is_the_registry_table() -> None:
    from devices import registry

    done = kiosk("device", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {(r["kind"], r["adapter"]) for r in rows} == {
        (k.name, a.name) for k in registry.KINDS for a in k.adapters}
    printer = next(r for r in rows if r["adapter"] == "escpos_network")
    assert set(printer["keys"]) == {"host", "tcp_port", "model"} and printer["available"]
    cups = next(r for r in rows if r["adapter"] == "cups")
    assert set(cups["keys"]) >= {"queue", "server"} and cups["available"]
    board = next(r for r in rows if r["adapter"] == "rs485_8a80")
    assert {"port", "compartments", "invert_doors"} <= set(board["keys"])
    assert all(r["available"] for r in rows)  # no adapter is still to come


def test_device_status_asks_each_fitted_device_through_its_worker() -> None:
    done = kiosk("device", "status", "--config", "gov-hall", "--simulated", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["kind"] for r in rows] == ["id_reader", "id_reader", "printer",
                                         "certificate_printer", "locker", "camera"]
    assert all(r["state"] == "ready" and r["since"] > 1.7e9 for r in rows)
    only = json.loads(kiosk("device", "status", "printer", "--config", "bank-branch",
                            "--simulated", "--json").stdout)
    assert [r["name"] for r in only] == ["printer"]


def test_device_status_of_a_production_profile_says_which_device_is_missing() -> None:
    done = kiosk("device", "status", "locker", "--config", "gov-hall", "--json")
    assert done.returncode == 1, done.stderr
    locker, = json.loads(done.stdout)
    assert (locker["name"], locker["state"], locker["reason"]) == (
        "locker", "offline", "not_connected")
    assert locker["message"].startswith("/dev/ttyUSB0: cannot open")
    wrong = kiosk("device", "status", "scanner", "--config", "gov-hall")
    assert wrong.returncode == 2 and "unknown device kind 'scanner'" in wrong.stderr


def test_device_status_exits_1_with_the_reason_when_a_device_cannot_be_used(
    tmp_path: Path,
) -> None:
    profile = (ROOT / "kiosk/config/profiles/bank-branch.toml").read_text(encoding="utf-8")
    start = profile.index("[[devices.id_reader]]")
    end = profile.index("[hours]")
    devices = ('[devices.id_reader]\nadapter = "simulator"\n\n'
               '[devices.printer]\nadapter = "simulator"\npaper_receipts = 0\n\n')
    path = tmp_path / "empty-roll.toml"
    path.write_text("allow_simulators = true\n" + profile[:start] + devices + profile[end:],
                    encoding="utf-8")
    done = kiosk("device", "status", "--config", str(path), "--json")
    assert done.returncode == 1, done.stderr
    rows = {r["kind"]: r for r in json.loads(done.stdout)}
    assert rows["printer"]["state"] == "fault" and rows["printer"]["reason"] == "paper_out"
    assert rows["id_reader"]["state"] == "ready"
