"""The demo's wire peers and the simulated citizen's hands on them.

`kiosk demo` reads identity cards through the production SAM adapter, from a SAM reader peer
running as a process of its own on a pty (devices/id_reader/sam/peer.py); passports and bank
cards through the production PC/SC adapter, from virtual cards in vpcd's reader under pcscd;
QR codes and faces through the production OpenCV adapter, looking at an image file; receipts
through the production ESC/POS adapter to a printer peer on loopback TCP; the locker through
the production RS-485 adapter, from its lock boards' peer running as a process of its own on
a pty (devices/locker/rs485/peer.py). The citizen's hands are played here: a moment after the
screen asks for a document, the visit's document is presented (in turn: an ID card, the
phone's QR code, a passport, whose details are then typed, a bank card), the citizen faces
the camera when asked to, takes the certificate out of the locker door that opened and
closes it, and the document comes back off once the visit is over. Staff are played too:
every demo document holder has a certificate waiting in the locker, loaded again after it
is collected. Devices without a wire peer yet stay simulated.
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
from typing import TYPE_CHECKING

import requests

from devices.certificate_printer.cups.config import CupsConfig
from devices.certificate_printer.cups.peer import CUPSD, QUEUE, CupsPeer
from devices.config import AdapterConfig
from devices.id_reader.pcsc.cards.bank import VirtualBankCard
from devices.id_reader.pcsc.cards.passport import VirtualPassport, td3
from devices.id_reader.pcsc.cards.vpcd import VirtualCard
from devices.id_reader.pcsc.config import PcscConfig
from devices.id_reader.protocol import Identity
from devices.id_reader.sam.config import SamSerialConfig
from devices.id_reader.simulator import DEMO_CITIZENS
from devices.printer.escpos.config import EscposNetworkConfig
from devices.printer.escpos.peer import EscposPeer
from kiosk.config.devices import with_configs
from kiosk.config.profile import Profile
from kiosk.demo.enrolment import BackOfficeAccess
from kiosk.demo.faces import CameraView, photo_on_file
from kiosk.session import Session, SessionView, State

if TYPE_CHECKING:
    from kiosk.demo.locker import LockerPeerProcess

log = logging.getLogger(__name__)


class PeerProcess:
    """A wire peer as a process of its own (`python -m MODULE ARGS...`): it prints its port,
    then takes one command a line on its stdin. Its timing is its own: it answers on time
    whatever this process is busy with."""

    def __init__(self, module: str, *args: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        self.port = self._proc.stdout.readline().strip()
        if not self.port:
            self.close()
            raise RuntimeError(f"the wire peer {module} did not start")
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


class SamPeerProcess(PeerProcess):
    """`python -m devices.id_reader.sam.peer`, driven through its stdin."""

    def __init__(self, card_delay_s: float = 0.2) -> None:
        super().__init__("devices.id_reader.sam.peer", str(card_delay_s))


@contextlib.contextmanager
def optional_pcscd() -> Iterator[bool]:
    """pcscd with vpcd's virtual readers for the demo's passports and bank cards; False (and
    no PC/SC reader in the demo) when they are not installed here."""
    from kiosk.demo.pcscd import pcscd

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(pcscd())
            running = True
        except (RuntimeError, OSError) as e:
            log.warning("no PC/SC in this demo: %s", e)
            running = False
        yield running


@contextlib.contextmanager
def printer_peer(png_dir: Path) -> Iterator[EscposPeer]:
    """The receipt printer's wire peer on loopback TCP; each receipt it prints is a PNG."""
    peer = EscposPeer(png_dir=png_dir)
    try:
        yield peer
    finally:
        peer.close()


def with_printer_peer(profile: Profile, peer: EscposPeer) -> Profile:
    """The profile's receipt printer becomes the ESC/POS adapter, printing to the peer."""
    config = EscposNetworkConfig(host=peer.host, tcp_port=peer.port)
    devices = with_configs(profile.devices, {"printer": (config,)})
    return profile.model_copy(update={"devices": devices})


@contextlib.contextmanager
def certificate_printer_peer(out_dir: Path) -> Iterator[CupsPeer | None]:
    """A private cupsd with the virtual A4 printer; each certificate it prints is a PDF in
    `out_dir`. None (the A4 printer stays simulated) where cupsd is not installed."""
    if not Path(CUPSD).exists():
        yield None
        return
    peer = CupsPeer(out_dir)
    try:
        yield peer
    finally:
        peer.close()


def with_certificate_printer_peer(profile: Profile, peer: CupsPeer | None) -> Profile:
    """The profile's A4 printer becomes the CUPS adapter, printing to the peer's queue."""
    if peer is None or not profile.devices.configs("certificate_printer"):
        return profile
    config = CupsConfig(queue=QUEUE, server=peer.socket)
    devices = with_configs(profile.devices, {"certificate_printer": (config,)})
    return profile.model_copy(update={"devices": devices})


@contextlib.contextmanager
def sam_peer(card_delay_s: float = 0.2) -> Iterator[SamPeerProcess]:
    peer = SamPeerProcess(card_delay_s)
    try:
        yield peer
    finally:
        peer.close()


# The ICAO 9303 specimen passport (with the demo citizens' face in its chip), and a bank card.
DEMO_PASSPORT_MRZ = td3("ERIKSSON", "ANNA MARIA", "L898902C", "UTO", "690806", "F", "340623")
DEMO_PASSPORT_DETAILS = ("L898902C", "1969-08-06", "2034-06-23")  # as the citizen types them
DEMO_BANK_CARD = ("6222021234567890123", "3012", "ZHANG/SAN")
VPCD_READER = "Virtual PCD 00 00"


def demo_document_numbers() -> list[str]:
    """Every demo document whose holder's photo is on file at the back office."""
    return [*(c.id_number for c in DEMO_CITIZENS), DEMO_PASSPORT_DETAILS[0], DEMO_BANK_CARD[0]]


def with_demo_readers(profile: Profile, raw: Profile, sam_port: str, *, pcsc: bool) -> Profile:
    """The identity readers `raw` (the profile as shipped) fits, on the demo's wire peers: the
    SAM reader on the peer's pty, PC/SC readers on vpcd's reader (when pcscd runs)."""
    readers: list[AdapterConfig] = [SamSerialConfig(port=sam_port)]
    for config in raw.devices.configs("id_reader"):
        if isinstance(config, PcscConfig) and pcsc:
            readers.append(PcscConfig(reader=VPCD_READER, documents=config.documents))
    devices = with_configs(profile.devices, {"id_reader": tuple(readers)})
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
    """The demo citizen's hands: when the screen asks for a document, a moment later the
    visit's document is presented (an ID card on the SAM reader, the phone's QR code to the
    camera, a passport or a bank card on the PC/SC reader, in turn among those the terminal
    reads); a passport's details are typed when the screen asks for them; the citizen faces
    the camera when asked to; when a locker door opens for them, a moment later they take the
    certificate out and close the door (on the boards' peer, `locker`); the document is taken
    back once the visit is over."""

    def __init__(self, session: Session, peer: SamPeerProcess, *,
                 view: CameraView | None = None, backoffice: BackOfficeAccess | None = None,
                 pcsc_documents: tuple[str, ...] = (), locker: LockerPeerProcess | None = None,
                 present_after_s: float = 1.5, take_back_after_s: float = 2.0,
                 collect_after_s: float = 2.0) -> None:
        self._session, self._peer, self._locker = session, peer, locker
        self._view, self._backoffice = view, backoffice
        self._present_after_s, self._take_back_after_s = present_after_s, take_back_after_s
        self._collect_after_s = collect_after_s
        self._documents = ["id_card"]
        if view is not None and backoffice is not None:
            self._documents.append("qr_code")
        self._documents += [d for d in ("passport", "bank_card") if d in pcsc_documents]
        self._visits = itertools.count()
        self._on_reader: str | None = None  # what lies on a reader (or is held up) now
        self._card: VirtualCard | None = None
        self._typed = False
        self._seen: State | None = None
        self._timer: threading.Timer | None = None
        self._door: int | None = None  # the locker door the citizen is at (claimed)
        self._door_timer: threading.Timer | None = None
        self._lock = threading.RLock()
        session.subscribe(self.see)

    def see(self, view: SessionView) -> None:
        with self._lock:  # views come from the session's threads, timers from their own
            self._see(view)

    def _see(self, view: SessionView) -> None:
        if self._view is not None and view.state is not self._seen:
            # The citizen faces the camera when asked to, and steps back when done.
            if view.state is State.VERIFY:
                self._view.show_face()
            elif self._seen is State.VERIFY or view.state is State.ATTRACT:
                self._view.show_nobody()
        self._seen = view.state
        self._at_locker(view)
        if view.passport_details and not self._typed and self._timer is None:
            self._typed = True
            self._later(self._present_after_s, self._type_passport_details)
        elif view.state is State.IDENTIFY and self._on_reader is None and self._timer is None:
            self._later(self._present_after_s, self._present)
        elif view.state in (State.DONE, State.GOODBYE, State.ATTRACT) and self._on_reader:
            self._later(self._take_back_after_s, self._take_back)

    def _at_locker(self, view: SessionView) -> None:
        """The door that opened is claimed at once (views keep coming while it is open, and
        after it is closed until its sensor is read): one collection per door opening."""
        outcome = view.outcome
        if view.state is not State.HANDOVER:
            self._door = None
            if self._door_timer is not None:
                self._door_timer.cancel()
                self._door_timer = None
        elif (self._locker is not None and self._door is None and outcome is not None
                and outcome.output == "locker" and outcome.door_open
                and outcome.door is not None):
            self._door = outcome.door
            self._door_timer = threading.Timer(self._collect_after_s, self._collect,
                                               (outcome.door,))
            self._door_timer.daemon = True
            self._door_timer.start()

    def _collect(self, door: int) -> None:
        with self._lock:
            self._door_timer = None
        if self._locker is None or door not in self._locker.doors:
            return
        log.info("demo citizen takes the certificate out of door %d and closes it", door)
        self._locker.take_item(door)
        self._locker.close_door(door)

    def _later(self, delay_s: float, action: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(delay_s, action)  # type: ignore[arg-type]
        self._timer.daemon = True
        self._timer.start()

    def _present(self) -> None:
        with self._lock:  # claimed before the reader can see it: no second document
            self._timer = None
            visit = next(self._visits)
            document = self._documents[visit % len(self._documents)]
            self._on_reader, self._typed = document, False
        who = DEMO_CITIZENS[visit % len(DEMO_CITIZENS)]
        shown = (self._show_qr(who) if document == "qr_code"
                 else self._insert(document) if document in ("passport", "bank_card")
                 else False)
        if not shown:
            with self._lock:
                self._on_reader = "id_card"
            self._peer.send(f"insert {visit}")
        log.info("demo citizen %d presents: %s", visit, self._on_reader)

    def _insert(self, document: str) -> bool:
        card: VirtualCard = (VirtualPassport(DEMO_PASSPORT_MRZ, photo_on_file())
                             if document == "passport" else VirtualBankCard(*DEMO_BANK_CARD))
        try:
            card.insert(timeout_s=3)
        except OSError:
            log.warning("vpcd does not answer: the ID card is used instead")
            return False
        self._card = card
        return True

    def _type_passport_details(self) -> None:
        with self._lock:
            self._timer = None
        log.info("demo citizen types the passport's details")
        self._session.enter_passport_details(*DEMO_PASSPORT_DETAILS)

    def _show_qr(self, who: Identity) -> bool:
        """The government app's identity code, issued now, shown to the camera."""
        if self._view is None or self._backoffice is None:
            return False
        try:
            token = requests.post(self._backoffice.url + "/v1/qr-tokens", timeout=5,
                                  headers=self._backoffice.headers, json={
                "id": who.id_number, "name": who.name, "sex": who.sex,
                "birth": who.birth_date}).json()["token"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            log.warning("the back office issued no QR code: the card is used instead")
            return False
        self._view.show_qr(token)
        return True

    def _take_back(self) -> None:
        with self._lock:
            self._timer = None
            document, self._on_reader = self._on_reader, None
        log.info("demo citizen takes back: %s", document)
        if document == "id_card":
            self._peer.send("remove")
        elif document == "qr_code" and self._view is not None:
            self._view.show_nobody()
        elif self._card is not None:
            self._card.remove()
            self._card = None
        if self._session.view().state is State.IDENTIFY:
            # The next visit asked for a document while this one's was still out: present it
            # now (no new screen would come to say so).
            with self._lock:
                if self._on_reader is None and self._timer is None:
                    self._later(self._present_after_s, self._present)

    def stop(self) -> None:
        for timer in (self._timer, self._door_timer):
            if timer is not None:
                timer.cancel()
        if self._card is not None:
            self._card.remove()
