"""The demo's wire peers and the simulated citizen's hands on them.

`kiosk demo` reads identity cards through the production SAM adapter, from a SAM reader peer
running as a process of its own on a pty (devices/id_reader/sam/peer.py). The citizen's hands
are played here: a demo citizen's card goes onto the reader a moment after the screen asks for
one, and comes back off once the visit is over. Devices without a wire peer yet stay simulated.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import threading
from collections.abc import Iterator

from devices.id_reader.sam.config import SamSerialConfig
from kiosk.config.devices import with_configs
from kiosk.config.profile import Profile
from kiosk.session import Session, SessionView, State


class SamPeerProcess:
    """`python -m devices.id_reader.sam.peer`, driven through its stdin."""

    def __init__(self, card_delay_s: float = 0.2) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "devices.id_reader.sam.peer", str(card_delay_s)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        self.port = self._proc.stdout.readline().strip()
        if not self.port:
            self.close()
            raise RuntimeError("the SAM reader peer did not start")
        self._lock = threading.Lock()

    def send(self, command: str) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):  # the peer has gone
            assert self._proc.stdin is not None
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()


@contextlib.contextmanager
def sam_peer(card_delay_s: float = 0.2) -> Iterator[SamPeerProcess]:
    peer = SamPeerProcess(card_delay_s)
    try:
        yield peer
    finally:
        peer.close()


def with_sam_peer(profile: Profile, port: str) -> Profile:
    """The profile's identity reader becomes a SAM reader on the peer's port."""
    devices = with_configs(profile.devices, {"id_reader": (SamSerialConfig(port=port),)})
    return profile.model_copy(update={"devices": devices})


class DemoHands:
    """Puts a demo citizen's card on the reader when the screen asks, takes it back after."""

    def __init__(self, session: Session, peer: SamPeerProcess, *, present_after_s: float = 1.5,
                 take_back_after_s: float = 2.0) -> None:
        self._peer = peer
        self._present_after_s, self._take_back_after_s = present_after_s, take_back_after_s
        self._citizens = itertools.count()
        self._card_on = False
        self._timer: threading.Timer | None = None
        session.subscribe(self.see)

    def see(self, view: SessionView) -> None:
        if view.state is State.IDENTIFY and not self._card_on and self._timer is None:
            self._later(self._present_after_s, self._present)
        elif view.state in (State.DONE, State.GOODBYE, State.ATTRACT) and self._card_on:
            self._later(self._take_back_after_s, self._take_back)

    def _later(self, delay_s: float, action: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(delay_s, action)  # type: ignore[arg-type]
        self._timer.daemon = True
        self._timer.start()

    def _present(self) -> None:
        self._timer = None
        self._card_on = True
        self._peer.send(f"insert {next(self._citizens)}")

    def _take_back(self) -> None:
        self._timer = None
        self._card_on = False
        self._peer.send("remove")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
