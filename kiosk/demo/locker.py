"""The demo's certificate locker: the lock boards' wire peer as a process of its own on a pty
(devices/locker/rs485/peer.py), the production RS-485 adapter pointed at it, and the demo's
stand-in for staff, who keeps a certificate waiting for every demo document holder."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

from devices.id_reader.simulator import DEMO_CITIZENS
from devices.locker.rs485.config import Rs485_8a80Config, Rs485KerongConfig
from kiosk.config.devices import with_configs
from kiosk.config.profile import Profile
from kiosk.demo.peers import DEMO_PASSPORT_DETAILS, PeerProcess
from kiosk.demo.seed import KEEP_S
from kiosk.records.locker_store import LockerInventory
from kiosk.session import Session, SessionView, State

log = logging.getLogger(__name__)

Rs485Config = Rs485_8a80Config | Rs485KerongConfig


class LockerPeerProcess(PeerProcess):
    """`python -m devices.locker.rs485.peer`: the lock boards behind a locker laid out as
    `layout_of` (its protocol, its boards and their locks), driven through its stdin; the
    compartments are named here by their numbers in that layout."""

    def __init__(self, layout_of: Rs485Config) -> None:
        layout = layout_of.layout()
        locks: dict[int, int] = {}
        for c in layout:
            locks[c.board] = max(locks.get(c.board, 0), c.lock)
        protocol = "kerong" if isinstance(layout_of, Rs485KerongConfig) else "8a80"
        super().__init__("devices.locker.rs485.peer", protocol,
                         *(f"{board}:{n}" for board, n in sorted(locks.items())))
        self._where = {c.number: f"{c.board}:{c.lock}" for c in layout}
        # The production adapter on the peer's pty, with the profile's compartments (and the
        # peer's own wiring and line speed: not inverted, the protocol's baud rate).
        self.config: Rs485Config = type(layout_of)(
            port=self.port, doors=layout_of.doors, compartments=layout_of.compartments)

    @property
    def doors(self) -> frozenset[int]:
        return frozenset(self._where)

    def put_item(self, door: int) -> None:
        self.send(f"put {self._where[door]}")

    def take_item(self, door: int) -> None:
        self.send(f"take {self._where[door]}")

    def close_door(self, door: int) -> None:
        self.send(f"close {self._where[door]}")




@contextlib.contextmanager
def locker_peer(profile: Profile) -> Iterator[LockerPeerProcess | None]:
    """The lock boards' wire peer for the profile's RS-485 locker (8A/80 or Kerong-style, as
    the profile names it, with its boards and locks); None (the locker stays simulated) when
    the profile fits no RS-485 locker."""
    configs = [c for c in profile.devices.configs("locker")
               if isinstance(c, Rs485_8a80Config | Rs485KerongConfig)]
    if not configs:
        yield None
        return
    peer = LockerPeerProcess(configs[0])
    try:
        yield peer
    finally:
        peer.close()


def with_locker_peer(profile: Profile, peer: LockerPeerProcess | None) -> Profile:
    """The profile's locker becomes the RS-485 adapter, on the boards' peer's pty."""
    if peer is None:
        return profile
    devices = with_configs(profile.devices, {"locker": (peer.config,)})
    return profile.model_copy(update={"devices": devices})




def demo_locker_holders() -> dict[int, str]:
    """Whose certificate waits behind which door: each demo citizen's behind doors 1.. (as
    seed_demo_locker loads them), then the demo passport holder's, behind the next door (the
    visits take turns with the documents, so that a collection may come with any of them)."""
    holders = {door: c.id_number for door, c in enumerate(DEMO_CITIZENS, start=1)}
    return {**holders, len(holders) + 1: DEMO_PASSPORT_DETAILS[0]}


class DemoLockerStaff:
    """The demo's stand-in for staff at the locker. Every demo document holder has a
    certificate waiting (demo_locker_holders), in the terminal's records and in the boards'
    peer alike, so that the door and item sensors agree with the records; and each time the
    session is back at the attract screen, a door whose certificate was collected is loaded
    again, under a new application number, so that the next visit can collect too."""

    def __init__(self, session: Session, inventory: LockerInventory,
                 peer: LockerPeerProcess) -> None:
        self._inventory, self._peer = inventory, peer
        self._holders = {d: n for d, n in demo_locker_holders().items() if d in peer.doors}
        self._seen: State | None = None
        self._lock = threading.Lock()  # one loading round at a time
        self.load()
        for item in inventory.items():  # what earlier demos left in the records is inside
            peer.put_item(item.door)
        session.subscribe(self.see)

    def see(self, view: SessionView) -> None:
        back = view.state is State.ATTRACT and self._seen is not State.ATTRACT
        self._seen = view.state
        if back:  # off the session's thread: hashing the holder's number takes a moment
            threading.Thread(target=self.load, name="demo-locker-staff", daemon=True).start()

    def load(self) -> int:
        """Loads every holder's door the records show empty (and no door intent is open on):
        closed on the item, in the peer and then in the records; how many were loaded."""
        with self._lock:
            busy = self._inventory.occupied() | {i.door for i in self._inventory.unresolved()}
            loaded = 0
            for door, number in self._holders.items():
                if door in busy:
                    continue
                self._peer.put_item(door)
                self._peer.close_door(door)
                self._inventory.load(door, f"DEMO-{door:04d}-{time.strftime('%y%m%d%H%M%S')}",
                                     "营业执照", "Business licence", number, now=time.time(),
                                     keep_s=KEEP_S)
                loaded += 1
            if loaded:
                log.info("demo staff loaded %d locker compartment(s)", loaded)
            return loaded
