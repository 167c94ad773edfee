"""The watchdog: the notify protocol (kiosk/ops/watchdog.py) against sockets bound here, the
UI's keep-alives (screens/keepalive.py), the supervisor that speaks the protocol
(kiosk/ops/supervise.py) with real child processes, the shipped systemd units, and the real
app under `kiosk supervise`: a hung UI loop, then a stuck session worker, each killed by the
watchdog and the app started again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.ops import watchdog
from kiosk.ops.supervise import Supervisor, SupervisorSettings
from screens.keepalive import UiKeepAlive
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


# -- the notify protocol --
def test_notify_sends_the_lines_as_one_datagram_to_notify_socket(
        listener: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setattr(watchdog, "_default", None)  # read the environment again
    assert watchdog.notify(watchdog.READY, watchdog.status("ready:\n attract"))
    assert sock.recv(4096) == b"READY=1\nSTATUS=ready: attract"
    assert watchdog.notify(watchdog.WATCHDOG)
    assert sock.recv(4096) == b"WATCHDOG=1"


def test_an_at_sign_names_a_socket_in_the_abstract_namespace() -> None:
    name = f"kiosk-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert watchdog.Notifier("@" + name).send(watchdog.STOPPING)
        assert sock.recv(4096) == b"STOPPING=1"


def test_without_notify_socket_nothing_is_sent_and_nothing_fails() -> None:
    quiet = watchdog.Notifier.from_environ({})
    assert not quiet.enabled
    assert not quiet.send(watchdog.READY)


def test_a_socket_nobody_listens_on_is_logged_once_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gone = watchdog.Notifier(str(tmp_path / "nobody"))
    with caplog.at_level("WARNING", logger="kiosk.ops.watchdog"):
        assert not gone.send(watchdog.READY)
        assert not gone.send(watchdog.WATCHDOG)
    assert len(caplog.records) == 1 and "notify socket" in caplog.text
    assert not gone.enabled


@pytest.mark.parametrize(("environ", "expected"), [
    ({"WATCHDOG_USEC": "2000000"}, 2.0),
    ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "4242"}, 0.5),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "two seconds"}, None),
    ({}, None),
])
def test_watchdog_usec_is_read_only_for_the_process_it_names(
        environ: dict[str, str], expected: float | None) -> None:
    assert watchdog.watchdog_interval_s(environ, pid=4242) == expected


# -- the UI's keep-alives --
class Ticks:
    ticked_at: float | None = None


def test_keep_alives_are_withheld_while_the_session_does_not_tick(
        listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    clock = [100.0]
    ticks = Ticks()
    alive = UiKeepAlive(ticks, notifier=watchdog.Notifier(path), interval_s=2.0,
                        now=lambda: clock[0])
    alive.ready("attract")
    assert sock.recv(4096) == b"READY=1\nSTATUS=ready: attract screen drawn"
    clock[0] += 1.0  # no tick yet, but the app has only just started
    assert alive.beat() and sock.recv(4096) == b"WATCHDOG=1"
    ticks.ticked_at = clock[0]
    clock[0] += 2.5  # the session's worker has been stuck since
    assert not alive.beat() and alive.stalled
    assert sock.recv(4096).startswith(b"STATUS=session worker stalled for 2 s")
    assert not alive.beat()  # said once
    ticks.ticked_at = clock[0]
    assert alive.beat()
    assert sock.recv(4096) == b"STATUS=ready: the session ticks again"
    assert sock.recv(4096) == b"WATCHDOG=1"


# -- the supervisor, with real children --
def child(code: str) -> list[str]:
    """A Python child that can notify through kiosk.ops.watchdog."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); " + code]


NOTIFY = "from kiosk.ops.watchdog import notify; import time, signal, sys; "


def supervise(command: list[str], on_event: Callable[[dict[str, Any]], None] | None = None,
              **settings: Any) -> tuple[int, list[dict[str, Any]]]:
    """Run the supervisor here, on the main thread (it owns signal handlers): its exit code
    and its events."""
    events: list[dict[str, Any]] = []

    def log(event: str, **fields: Any) -> None:
        events.append({"event": event, **fields})
        if on_event is not None:
            on_event(events[-1])

    quick = {"restart_s": 0.05, "stop_timeout_s": 1.0, "start_timeout_s": 10.0,
             "start_limit_burst": 2, **settings}
    return Supervisor(command, SupervisorSettings(**quick), log).run(), events


def named(events: list[dict[str, Any]], *kinds: str) -> list[str]:
    return [e["event"] for e in events if not kinds or e["event"] in kinds]


def test_a_child_that_never_says_ready_is_stopped_restarted_and_given_up_on() -> None:
    code, events = supervise(child("import time; time.sleep(60)"), watchdog_s=1.0,
                             start_timeout_s=0.5)
    assert code == 1
    assert named(events, "started", "start_timeout", "exited", "start_limit_hit") == [
        "started", "start_timeout", "exited"] * 2 + ["start_limit_hit"]
    assert {e["signal"] for e in events if e["event"] == "exited"} == {"SIGTERM"}
    assert [e["restarts"] for e in events if e["event"] == "started"] == [0, 1]


def test_a_child_that_exits_is_started_again_until_the_start_rate_limit() -> None:
    code, events = supervise(child("sys.exit(3)"), watchdog_s=1.0, start_limit_burst=3)
    assert code == 1
    assert [e["code"] for e in events if e["event"] == "exited"] == [3, 3, 3]
    assert named(events)[-1] == "start_limit_hit"
    assert len({e["pid"] for e in events if e["event"] == "started"}) == 3


def test_what_an_exited_child_left_in_its_process_group_is_killed(tmp_path: Path) -> None:
    left = tmp_path / "grandchild.pid"
    code, events = supervise(child(
        f"import subprocess; p = subprocess.Popen(['sleep', '60']); "
        f"open({str(left)!r}, 'w').write(str(p.pid)); sys.exit(0)"), watchdog_s=1.0,
        start_limit_burst=1)
    assert code == 1 and events[named(events).index("exited")]["code"] == 0
    pid = int(left.read_text())

    def running() -> bool:  # a zombie left to init counts as gone
        stat = Path(f"/proc/{pid}/stat")
        return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    wait_until(lambda: not running(), 5, "the grandchild killed")


def test_a_silent_child_that_ignores_the_watchdog_signal_is_killed() -> None:
    code, events = supervise(child(
        NOTIFY + "signal.signal(signal.SIGABRT, signal.SIG_IGN); notify('READY=1'); "
        "time.sleep(60)"), watchdog_s=0.5, start_limit_burst=1)
    assert code == 1
    assert named(events, "ready", "watchdog_timeout", "killing", "exited") == [
        "ready", "watchdog_timeout", "killing", "exited"]
    timeout = next(e for e in events if e["event"] == "watchdog_timeout")
    assert timeout["signal"] == "SIGABRT"
    assert events[named(events).index("exited")]["signal"] == "SIGKILL"


def test_only_the_main_process_is_listened_to() -> None:
    def meddle(event: dict[str, Any]) -> None:
        if event["event"] == "supervising":
            where.append(event["socket"])
        if event["event"] == "started":  # not the child: this test's own process says it
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(b"READY=1", where[0])

    where: list[str] = []
    code, events = supervise(child("import time; time.sleep(60)"), meddle, watchdog_s=1.0,
                             start_timeout_s=1.0, start_limit_burst=1)
    assert code == 1
    ignored = next(e for e in events if e["event"] == "ignored_notification")
    assert ignored["sender"] == os.getpid()
    assert "ready" not in named(events) and "start_timeout" in named(events)


def test_sigterm_stops_the_child_cleanly_and_then_the_supervisor() -> None:
    def stop_when_ready(event: dict[str, Any]) -> None:
        if event["event"] == "ready":
            os.kill(os.getpid(), signal.SIGTERM)  # to the supervisor, i.e. here

    code, events = supervise(child(
        NOTIFY + "signal.signal(signal.SIGTERM, lambda *_: (notify('STOPPING=1'), "
        "sys.exit(0))); notify('READY=1')\nwhile True: time.sleep(0.1); notify('WATCHDOG=1')"),
        stop_when_ready, watchdog_s=1.0)
    assert code == 0
    assert named(events)[-5:] == ["ready", "stopping", "child_stopping", "exited", "stopped"]
    assert events[-2]["code"] == 0


# -- the systemd units shipped --
def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections and keys (a key may be given more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_kiosk_unit_restarts_the_app_on_exit_and_on_a_silent_watchdog() -> None:
    service = unit(UNITS / "kiosk.service")["Service"]
    one = {k: v[-1] for k, v in service.items()}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert one["Restart"] == "always" and float(one["RestartSec"]) > 0
    assert 10 <= int(one["WatchdogSec"]) < int(one["TimeoutStartSec"])
    assert one["ExecStart"].split()[:2] == ["/opt/kiosk/.venv/bin/kiosk", "run"]
    assert "--config" in one["ExecStart"] and "--data-dir /var/lib/kiosk" in one["ExecStart"]
    assert one["User"] == "kiosk" and one["StateDirectory"] == "kiosk"
    assert {"dialout", "plugdev", "video", "input"} <= set(one["SupplementaryGroups"].split())
    # Each of these turns /dev into an allow-list: the boards and printers would vanish.
    assert not {"PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock"} & set(one)
    assert one["ProtectSystem"] == "strict" and one["PrivateTmp"] == "yes"
    users = (UNITS / "kiosk.sysusers").read_text(encoding="utf-8")
    assert "u kiosk " in users and "g input" in users and "g render" in users


@pytest.mark.parametrize("name", ["kiosk.service", "kiosk-backoffice.service"])
def test_systemd_analyze_verify_finds_nothing_to_say(name: str, tmp_path: Path) -> None:
    # The same unit, but its command where this checkout's is (verify checks it exists).
    venv_kiosk = Path(sys.executable).parent / "kiosk"
    text = (UNITS / name).read_text(encoding="utf-8")
    (tmp_path / name).write_text(text.replace("/opt/kiosk/.venv/bin/kiosk", str(venv_kiosk)),
                                 encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / name)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.strip()) == (0, "")


def test_sysusers_makes_the_kiosk_user_and_its_device_groups(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(UNITS / "kiosk.sysusers")],
                   check=True, capture_output=True, timeout=60)
    passwd = (tmp_path / "etc" / "passwd").read_text(encoding="utf-8")
    groups = (tmp_path / "etc" / "group").read_text(encoding="utf-8")
    assert passwd.startswith("kiosk:") and ":/var/lib/kiosk:" in passwd
    assert {"input", "render", "kiosk"} <= {g.split(":")[0] for g in groups.splitlines()}


# -- the real app under `kiosk supervise` --
def read_events(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
            if line.endswith("}")]  # a line being written is not one yet


@pytest.mark.ui
@pytest.mark.slow
@pytest.mark.realstack
def test_a_hung_ui_and_then_a_stuck_session_are_each_restarted_by_the_watchdog(
        tmp_path: Path) -> None:
    log, status, out = tmp_path / "supervise.jsonl", tmp_path / "status.json", tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    with out.open("wb") as output:
        sup = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "supervise", "--watchdog-sec", "3",
             "--restart-sec", "0.2", "--stop-timeout-sec", "5", "--start-timeout-sec", "40",
             "--log", str(log), "--status-file", str(status), "--",
             sys.executable, "-m", "tests.hang_app", str(tmp_path / "kiosk")],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT)

    def nth_ready(n: int) -> int:
        def ready() -> list[int]:
            return [e["pid"] for e in read_events(log) if e["event"] == "ready"]
        wait_until(lambda: len(ready()) >= n, 45, f"start {n} of the app saying READY=1")
        return ready()[n - 1]

    def happened(event: str, pid: int, limit_s: float = 15) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((e for e in read_events(log)
                         if e["event"] == event and e.get("pid") == pid), None)
        wait_until(lambda: find() is not None, limit_s, f"{event} of {pid}")
        found = find()
        assert found is not None
        return found

    try:
        first = nth_ready(1)
        happened("keepalives_started", first)  # the UI's WATCHDOG=1 arrive
        os.kill(first, signal.SIGUSR1)  # the UI thread blocks for ever
        assert happened("watchdog_timeout", first)["signal"] == "SIGABRT"
        assert happened("exited", first)["signal"] == "SIGABRT"
        second = nth_ready(2)
        happened("keepalives_started", second)
        os.kill(second, signal.SIGUSR2)  # the session's worker blocks; the UI still draws
        assert happened("status", second)["status"].startswith("ready: attract")
        wait_until(lambda: any(e["event"] == "status" and e["pid"] == second
                               and "session worker stalled" in e["status"]
                               for e in read_events(log)), 15, "the stall said")
        happened("watchdog_timeout", second)
        third = nth_ready(3)
        assert len({first, second, third}) == 3
        state = json.loads(status.read_text(encoding="utf-8"))
        assert (state["pid"], state["restarts"]) == (third, 2)
        # Each SIGABRT left where the app hung (faulthandler), for the journal.
        dumps = out.read_text(encoding="utf-8", errors="replace")
        assert dumps.count("Fatal Python error: Aborted") == 2 and "hang_app.py" in dumps
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(20) == 0
        assert happened("child_stopping", third) and happened("exited", third)["code"] == 0
        assert read_events(log)[-1]["event"] == "stopped"
    finally:
        print(log.read_text(encoding="utf-8") if log.exists() else "no log")  # on failure
        stop_all(sup, log)


def stop_all(sup: subprocess.Popen[bytes], log: Path) -> None:
    """The supervisor stopped, and every app it started: none is left running after a test
    that failed half-way (each holds half a gigabyte)."""
    if sup.poll() is None:
        sup.send_signal(signal.SIGTERM)  # it stops the app it runs, SIGKILL at the worst
        try:
            sup.wait(20)
        except subprocess.TimeoutExpired:
            sup.kill()
            sup.wait()
    for pid in {e["pid"] for e in read_events(log) if e["event"] == "started"}:
        cmdline = Path(f"/proc/{pid}/cmdline")
        with contextlib.suppress(OSError):
            if b"tests.hang_app" in cmdline.read_bytes():
                os.killpg(pid, signal.SIGKILL)
