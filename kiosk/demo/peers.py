"""The demo's wire peers and the simulated citizen's hands on them.

`kiosk demo` reads identity cards through the production SAM adapter, from a SAM reader peer
running as a process of its own on a pty (devices/id_reader/sam/peer.py). The citizen's hands
are played here: a demo citizen's card goes onto the reader a moment after the screen asks for
one, and comes back off once the visit is over. Devices without a wire peer yet stay simulated.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import requests

from devices.id_reader.protocol import Identity
from devices.id_reader.sam.config import SamSerialConfig
from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.config.devices import with_configs
from kiosk.config.profile import Profile
from kiosk.demo.faces import CameraView
from kiosk.session import Session, SessionView, State

log = logging.getLogger(__name__)


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


def with_backoffice_qr_key(profile: Profile, backoffice_url: str, data_dir: Path) -> Profile:
    """The back office's key for identity QR codes, fetched and kept where the profile says;
    unchanged when the back office does not give one."""
    try:
        answer = requests.get(backoffice_url + "/v1/qr-public-key", timeout=5)
        pem = answer.json()["public_key_pem"] if answer.status_code == 200 else None
    except (requests.RequestException, ValueError, KeyError, TypeError):
        pem = None
    if not isinstance(pem, str):
        log.warning("the back office gives no QR key: identity QR codes are not offered")
        return profile
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "qr-public-key.pem"
    path.write_text(pem, encoding="ascii")
    backoffice = profile.backoffice.model_copy(update={"qr_public_key_file": str(path)})
    return profile.model_copy(update={"backoffice": backoffice})


class DemoHands:
    """The demo citizen's hands: when the screen asks for a document, a moment later either a
    card goes on the SAM reader or the phone's identity QR code is held to the camera (in
    turn); the card is taken back once the visit is over."""

    def __init__(self, session: Session, peer: SamPeerProcess, *,
                 view: CameraView | None = None, backoffice_url: str | None = None,
                 present_after_s: float = 1.5, take_back_after_s: float = 2.0) -> None:
        self._peer = peer
        self._view, self._backoffice_url = view, backoffice_url
        self._present_after_s, self._take_back_after_s = present_after_s, take_back_after_s
        self._citizens = itertools.count()
        self._card_on = False
        self._seen: State | None = None
        self._timer: threading.Timer | None = None
        session.subscribe(self.see)

    def see(self, view: SessionView) -> None:
        if self._view is not None and view.state is not self._seen:
            # The citizen faces the camera when asked to, and steps back when done.
            if view.state is State.VERIFY:
                self._view.show_face()
            elif self._seen is State.VERIFY or view.state is State.ATTRACT:
                self._view.show_nobody()
        self._seen = view.state
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
        visit = next(self._citizens)
        if visit % 2 and self._show_qr(DEMO_CITIZENS[visit % len(DEMO_CITIZENS)]):
            return
        self._peer.send(f"insert {visit}")

    def _show_qr(self, who: Identity) -> bool:
        """The government app's identity code, issued now, shown to the camera."""
        if self._view is None or self._backoffice_url is None:
            return False
        try:
            token = requests.post(self._backoffice_url + "/v1/qr-tokens", timeout=5, json={
                "id": who.id_number, "name": who.name, "sex": who.sex,
                "birth": who.birth_date}).json()["token"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            log.warning("the back office issued no QR code: the card is used instead")
            return False
        self._view.show_qr(token)
        return True

    def _take_back(self) -> None:
        self._timer = None
        self._card_on = False
        self._peer.send("remove")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
