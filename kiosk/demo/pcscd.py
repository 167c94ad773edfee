"""pcscd for the tests and the demo (virtual cards in vpcd's readers): started here when none
runs, stopped afterwards. A production image runs pcscd as a system service instead."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SOCKET = Path("/run/pcscd/pcscd.comm")


def running() -> bool:
    if not SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(SOCKET))
        except OSError:
            return False
    return True


@contextmanager
def pcscd() -> Iterator[None]:
    """Yields once pcscd answers and vpcd listens; stops only a pcscd it started."""
    if running():
        yield
        return
    binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
    if not Path(binary).exists():
        raise RuntimeError("pcscd is not installed: run bash scripts/bootstrap.sh test")
    proc = subprocess.Popen([binary, "--foreground"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not running() or not _vpcd_listening():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pcscd did not start (is vsmartcard-vpcd installed?)")
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(10)


def _vpcd_listening() -> bool:
    """pcscd lists the virtual readers (asking it, not vpcd: a connection to vpcd's port would
    be taken for a card)."""
    from smartcard.Exceptions import SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers

    try:
        return any("Virtual PCD" in str(r) for r in readers())
    except (SmartcardException, BaseSCardException):
        return False


def reader_state(name: str) -> int:
    """pcscd's state flags for the reader (SCARD_STATE_*)."""
    from smartcard import scard

    _hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        _hresult, states = scard.SCardGetStatusChange(context, 0,
                                                      [(name, scard.SCARD_STATE_UNAWARE)])
        return int(states[0][1])
    finally:
        scard.SCardReleaseContext(context)


def seen_empty(name: str) -> bool:
    """pcscd has noticed that the reader is empty (a card removed is gone for it too)."""
    from smartcard import scard

    return bool(reader_state(name) & scard.SCARD_STATE_EMPTY)
