"""The service manager's notify protocol (sd_notify), spoken without libsystemd.

systemd (Type=notify, WatchdogSec=) and `kiosk supervise` both hand the app a datagram socket
in NOTIFY_SOCKET and, with a watchdog, its period in WATCHDOG_USEC. The app says READY=1 once
the attract screen is up, then WATCHDOG=1 more often than the period; a process that stops
saying it is killed and started again. Nothing here may stop the kiosk: without a socket every
call is a no-op, and a socket that fails is logged once and then left alone.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

READY = "READY=1"
WATCHDOG = "WATCHDOG=1"
STOPPING = "STOPPING=1"


def status(text: str) -> str:
    """A STATUS= line (shown by `systemctl status`); one line, no personal data."""
    return "STATUS=" + " ".join(text.split())


def socket_address(name: str) -> str:
    """NOTIFY_SOCKET as a socket address: '@name' is Linux's abstract namespace."""
    return "\0" + name[1:] if name.startswith("@") else name


def watchdog_interval_s(environ: Mapping[str, str] | None = None,
                        pid: int | None = None) -> float | None:
    """The watchdog period we must beat, in seconds; None when no watchdog watches us.

    WATCHDOG_PID, when set, names the process the watchdog is for: a child that inherited the
    variables (a peer the demo starts, a shell in between) is not it."""
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "").strip()
    if not raw:
        return None
    owner = env.get("WATCHDOG_PID", "").strip()
    if owner and owner != str(os.getpid() if pid is None else pid):
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number of microseconds; no keep-alives", raw)
        return None
    return usec / 1_000_000 if usec > 0 else None


class Notifier:
    """One notify socket, made once and kept open; `send` never raises. Takes no lock, so it
    is safe from any thread and from a signal handler (a handler that waited for a lock its
    own thread held mid-send would wait for ever); the kernel keeps each datagram whole."""

    def __init__(self, name: str | None) -> None:
        self.name = name or None
        self._sock: socket.socket | None = None
        self._broken = False
        self._dropped = False
        if self.name is not None:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.setblocking(False)  # never block the UI thread on a manager not reading
                self._sock = sock
            except OSError as e:
                self._fail(e)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *lines: str) -> bool:
        """Send the lines as one datagram; whether it went. A failure is logged once: the
        manager will act on the missing keep-alives, which is what should happen."""
        sock = self._sock
        if sock is None or self.name is None or not lines:
            return False
        data = "\n".join(lines).encode("utf-8", errors="replace")
        try:
            sock.sendto(data, socket_address(self.name))
        except BlockingIOError:
            if not self._dropped:
                self._dropped = True
                log.warning("the service manager is not reading its notify socket %s; a "
                            "notification was dropped", self.name)
            return False
        except OSError as e:
            self._fail(e)
            return False
        return True

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _fail(self, e: OSError) -> None:
        if self._broken:
            return
        self._broken = True
        log.warning("the service manager's notify socket %s failed (%s); no more "
                    "notifications are sent", self.name, e.strerror or e)
        self.close()


_default: Notifier | None = None


def notifier() -> Notifier:
    """The process's notifier, from NOTIFY_SOCKET as it was at the first call. No lock, as
    above: two threads racing here make two notifiers, and either serves."""
    global _default
    if _default is None:
        _default = Notifier.from_environ()
    return _default


def notify(*lines: str) -> bool:
    """Tell the service manager (systemd or `kiosk supervise`) `lines`, e.g. READY=1 and a
    STATUS=; a no-op without NOTIFY_SOCKET; never raises."""
    return notifier().send(*lines)
