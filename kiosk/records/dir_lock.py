"""One process per data directory: `kiosk run`, `demo`, `simulate`, `queue drain` and the
locker commands hold an exclusive lock on `<data dir>/kiosk.lock` for as long as they run,
with their PID written in it. A second one on the same directory stops at once with one line
naming the holder, instead of taking over the first one's in-flight envelopes or driving its
doors. The lock is the kernel's (flock): a process killed with -9 releases it with its last
file descriptor, so a crash never leaves a stale lock behind. Within one process the lock is
re-entrant (the demo holds its directory while it enrols the terminal that then holds it
too); it is let go when the last holder releases it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from kiosk.config.errors import ConfigError
from kiosk.records.ownership import hand_to_owner

LOCK_FILE = "kiosk.lock"
_held: dict[Path, tuple[int, int]] = {}  # lock file -> (descriptor, holders) in this process
_held_lock = threading.Lock()


class DataDirBusy(ConfigError):
    """Another process holds the data directory."""


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = (Path(data_dir) / LOCK_FILE).absolute()
        self._holding = False
        with _held_lock:
            held = _held.get(self.path)
            if held is not None:
                _held[self.path] = (held[0], held[1] + 1)
                self._holding = True
                return
            _held[self.path] = (_acquire(Path(data_dir), self.path), 1)
            self._holding = True

    def release(self) -> None:
        with _held_lock:
            if not self._holding:
                return
            self._holding = False
            fd, holders = _held.pop(self.path)
            if holders > 1:
                _held[self.path] = (fd, holders - 1)
                return
            os.ftruncate(fd, 0)
            # What a technician's command made here as root is the kiosk user's again.
            hand_to_owner(self.path.parent)
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _acquire(data_dir: Path, path: Path) -> int:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise ConfigError(f"{data_dir}: cannot lock the data directory: {e.strerror}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise DataDirBusy(f"{data_dir}: in use by another kiosk process"
                          f" (PID {holder or 'unknown'}); stop it first") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
