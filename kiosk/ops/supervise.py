"""A watchdog supervisor that speaks systemd's notify protocol, for machines without systemd.

It does for one command what systemd does for a Type=notify unit with WatchdogSec= and
Restart=always: it makes the notify socket, starts the command in a process group of its own
with NOTIFY_SOCKET and WATCHDOG_USEC set, waits for READY=1 within the start limit, and when
no WATCHDOG=1 arrives within the period it sends the group the watchdog signal (SIGABRT, as
systemd does, so that a faulthandler can say where the process hung), then SIGKILL. A command
that exits or is killed is started again after a pause, unless it has been started too often
lately (the start-rate limit). SIGTERM, SIGINT or SIGHUP stops the command and then itself.

Only the main process may notify (NotifyAccess=main): the kernel's SCM_CREDENTIALS give the
sender's pid. WATCHDOG_PID cannot be set before the exec, so it is left out (the watchdog is
for whoever got WATCHDOG_USEC; a child of the app that inherited it is not listened to).
Each event is one JSON line.

Single-threaded on purpose: one select() over the notify socket and a signal wake-up pipe,
with the next deadline as its timeout.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STATE_KEYS = ("pid", "start", "restarts", "status")  # what the status file keeps


@dataclass(frozen=True)
class SupervisorSettings:
    """The unit's timing keys, under the same names as in deploy/systemd/kiosk.service."""

    watchdog_s: float  # WatchdogSec=: the longest silence after READY=1 (0: no watchdog)
    start_timeout_s: float = 90.0  # TimeoutStartSec=: from start to READY=1
    restart_s: float = 2.0  # RestartSec=: the pause before starting again
    stop_timeout_s: float = 10.0  # TimeoutStopSec= and TimeoutAbortSec=: then SIGKILL
    start_limit_burst: int = 5  # StartLimitBurst=: at most this many starts ...
    start_limit_interval_s: float = 60.0  # StartLimitIntervalSec=: ... within this long
    watchdog_signal: int = signal.SIGABRT  # WatchdogSignal=


class EventLog:
    """One JSON line per event, flushed at once; and the latest state in a status file, for
    whoever wants it without reading the log (written whole, then renamed over)."""

    def __init__(self, out: IO[str], status_file: Path | None = None) -> None:
        self.out = out
        self.status_file = status_file
        self.state: dict[str, Any] = {}

    def __call__(self, event: str, **fields: Any) -> None:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.out.write(json.dumps({"at": at, "event": event, **fields}) + "\n")
        self.out.flush()
        if self.status_file is not None:
            self.state.update({k: v for k, v in fields.items() if k in STATE_KEYS},
                              event=event, at=at)
            tmp = self.status_file.with_name(self.status_file.name + ".tmp")
            with suppress(OSError):
                tmp.write_text(json.dumps(self.state) + "\n", encoding="utf-8")
                tmp.replace(self.status_file)


@dataclass
class _Child:
    proc: subprocess.Popen[bytes] | None
    start: int
    # starting -> running -> (stopping: it said so) -> terminating | aborting -> killed
    phase: str = "starting"
    deadline: float = 0.0  # when the phase's time is up
    status: str = ""
    keepalives: int = 0  # WATCHDOG=1 received

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


class Supervisor:
    def __init__(self, command: Sequence[str], settings: SupervisorSettings,
                 log: Callable[..., None], *, env: Mapping[str, str] | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.command = list(command)
        self.s = settings
        self.log = log
        self.env = dict(os.environ if env is None else env)
        self.now = now
        self.starts: deque[float] = deque()  # within the start-rate window
        self.started = 0  # ever
        self.stop_requested = False
        self._ignored: set[int] = set()

    # -- the loop --
    def run(self) -> int:
        """Until stopped (0) or the start-rate limit is hit (1). On the main thread: it
        installs signal handlers (and puts back the ones it found)."""
        with self._notify_socket() as (sock, path), self._signals() as wake:
            sel = selectors.DefaultSelector()
            sel.register(sock, selectors.EVENT_READ, "notify")
            sel.register(wake, selectors.EVENT_READ, "wake")
            self.log("supervising", command=self.command, socket=path,
                     watchdog_s=self.s.watchdog_s)
            while not self.stop_requested:
                if not self._may_start():
                    self.log("start_limit_hit", starts=len(self.starts),
                             within_s=self.s.start_limit_interval_s)
                    return 1
                child = self._start(path)
                self._watch(child, sel, sock)
                if self.stop_requested:
                    break
                self.log("restarting", in_s=self.s.restart_s, restart=self.started)
                self._pause(sel, sock, self.s.restart_s)
            self.log("stopped", starts=self.started)
            return 0

    def _may_start(self) -> bool:
        now = self.now()
        while self.starts and self.starts[0] <= now - self.s.start_limit_interval_s:
            self.starts.popleft()
        return len(self.starts) < self.s.start_limit_burst

    def _start(self, path: str) -> _Child:
        self.starts.append(self.now())
        self.started = n = self.started + 1
        env = {k: v for k, v in self.env.items()
               if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        env["NOTIFY_SOCKET"] = path
        if self.s.watchdog_s > 0:
            env["WATCHDOG_USEC"] = str(int(self.s.watchdog_s * 1_000_000))
        try:
            proc = subprocess.Popen(self.command, env=env, process_group=0)
        except OSError as e:
            self.log("start_failed", start=n, restarts=n - 1, error=e.strerror or str(e))
            return _Child(None, n)
        self.log("started", pid=proc.pid, start=n, restarts=n - 1)
        return _Child(proc, n, deadline=self.now() + self.s.start_timeout_s)

    def _watch(self, child: _Child, sel: selectors.BaseSelector, sock: socket.socket) -> None:
        """Until the child has exited (and been reaped)."""
        if child.proc is None:
            return
        while not self._exited(child, sock):
            if self.stop_requested and child.phase not in ("terminating", "killed"):
                self.log("stopping", pid=child.pid)
                self._kill(child, signal.SIGTERM, "terminating")
            left = child.deadline - self.now()
            if left <= 0:
                self._overdue(child)
                continue
            for key, _ in sel.select(min(left, 1.0)):  # SIGCHLD wakes it too
                if key.data == "notify":
                    self._receive(child, sock)
                else:
                    _drain(key.fileobj)

    def _overdue(self, child: _Child) -> None:
        if child.phase == "starting":
            self.log("start_timeout", pid=child.pid, after_s=self.s.start_timeout_s)
            self._kill(child, signal.SIGTERM, "terminating")
        elif child.phase == "running":
            self.log("watchdog_timeout", pid=child.pid, silent_s=self.s.watchdog_s,
                     signal=signal_name(self.s.watchdog_signal))
            self._kill(child, self.s.watchdog_signal, "aborting")
        elif child.phase == "stopping":
            self.log("stop_timeout", pid=child.pid, after_s=self.s.stop_timeout_s)
            self._kill(child, signal.SIGTERM, "terminating")
        elif child.phase in ("terminating", "aborting"):
            self.log("killing", pid=child.pid, after_s=self.s.stop_timeout_s, signal="SIGKILL")
            self._kill(child, signal.SIGKILL, "killed")
        else:  # SIGKILL cannot be caught; the exit will come
            child.deadline = self.now() + 3600.0

    def _receive(self, child: _Child, sock: socket.socket) -> bool:
        """One datagram, if one is waiting; whether there was one."""
        try:
            data, ancillary, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(_CREDS.size))
        except BlockingIOError:
            return False
        sender = None
        for level, kind, raw in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                sender = _CREDS.unpack(raw[:_CREDS.size])[0]
        if sender is None or sender != child.pid:  # NotifyAccess=main
            if (sender or 0) not in self._ignored:  # said once per sender
                self._ignored.add(sender or 0)
                self.log("ignored_notification", sender=sender, pid=child.pid)
            return True
        for line in data.decode("utf-8", errors="replace").splitlines():
            self._message(child, *line.partition("=")[::2])
        return True

    def _message(self, child: _Child, key: str, value: str) -> None:
        now = self.now()
        if key == "READY" and value == "1" and child.phase == "starting":
            child.phase = "running"
            child.deadline = now + self.s.watchdog_s if self.s.watchdog_s > 0 else float("inf")
            self.log("ready", pid=child.pid, start=child.start, restarts=child.start - 1)
        elif key == "WATCHDOG" and child.phase == "running" and self.s.watchdog_s > 0:
            child.deadline = now if value == "trigger" else now + self.s.watchdog_s
            child.keepalives += 1
            if child.keepalives == 1:  # once: the rest would drown the log
                self.log("keepalives_started", pid=child.pid)
        elif key == "STATUS" and value != child.status:
            child.status = value
            self.log("status", pid=child.pid, status=value)
        elif key == "STOPPING" and value == "1":
            self.log("child_stopping", pid=child.pid)
            if child.phase in ("starting", "running"):  # of its own accord: no watchdog now
                child.phase, child.deadline = "stopping", now + self.s.stop_timeout_s

    def _exited(self, child: _Child, sock: socket.socket) -> bool:
        """Whether the child has exited; if so, what it said last is read, what it left in
        its group is killed (it answers to no one now) and the child reaped. Peeked at first
        (WNOWAIT): until it is reaped its pid, the group's id, cannot go to another process."""
        assert child.proc is not None
        try:
            if os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                return False
        except ChildProcessError:  # reaped already
            pass
        for _ in range(64):  # what is queued, not a sender that keeps on
            if not self._receive(child, sock):
                break
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        code = child.proc.wait()
        how = {"signal": signal_name(-code)} if code < 0 else {"code": code}
        self.log("exited", pid=child.pid, **how, phase=child.phase,
                 keepalives=child.keepalives)
        return True

    def _kill(self, child: _Child, sig: int, phase: str) -> None:
        """`sig` to the child's whole group (KillMode=control-group), and the next phase."""
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)
            if sig == signal.SIGTERM:
                os.killpg(child.pid, signal.SIGCONT)  # a stopped process cannot act on it
        child.phase = phase
        child.deadline = self.now() + self.s.stop_timeout_s

    def _pause(self, sel: selectors.BaseSelector, sock: socket.socket, seconds: float) -> None:
        until = self.now() + seconds
        while not self.stop_requested and (left := until - self.now()) > 0:
            for key, _ in sel.select(left):
                if key.data == "notify":
                    with suppress(BlockingIOError):
                        sock.recv(4096)  # from a process we no longer watch
                else:
                    _drain(key.fileobj)

    # -- plumbing --
    @contextmanager
    def _notify_socket(self) -> Iterator[tuple[socket.socket, str]]:
        """A datagram socket in a directory only we can enter (0700), with the sender's
        credentials on every message."""
        where = Path(tempfile.mkdtemp(prefix="kiosk-supervise-"))
        path = str(where / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(path)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            sock.setblocking(False)
            yield sock, path
        finally:
            sock.close()
            with suppress(OSError):
                Path(path).unlink()
                where.rmdir()

    @contextmanager
    def _signals(self) -> Iterator[socket.socket]:
        """Signals wake the select() through a socket pair (a handler alone would not: the
        select is resumed after it runs)."""
        theirs, ours = socket.socketpair()
        for s in (theirs, ours):
            s.setblocking(False)
        old_fd = signal.set_wakeup_fd(ours.fileno(), warn_on_full_buffer=False)

        def stop(*_: object) -> None:
            self.stop_requested = True

        old = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
        old[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda *_: None)
        try:
            yield theirs
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(old_fd)
            theirs.close()
            ours.close()


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _drain(wake: Any) -> None:
    with suppress(BlockingIOError):
        while wake.recv(256):
            pass
