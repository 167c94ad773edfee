"""A certificate locker simulator for the demo: a door opens, the citizen takes the item and
closes it a moment later. Chosen only explicitly; the RS-485 boards' own wire peer, for the
production adapters, is rs485/peer.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import Field

from devices.config import AdapterConfig, BuildContext
from devices.locker.protocol import DoorOutcome, DoorState
from devices.status import DeviceStatus


class SimulatedLockerConfig(AdapterConfig):
    adapter: Literal["simulator"] = "simulator"
    """The demo's locker: a door opens, and the citizen shuts it a moment later."""
    doors: int = Field(default=24, gt=0, le=512)
    """Number of compartments."""
    close_after_s: float = Field(default=4.0, ge=0)
    """How long the simulated citizen takes to take the item and shut the door."""

    INSTANT: ClassVar[dict[str, Any]] = {"close_after_s": 0.0}


class SimulatedLocker:
    def __init__(
        self,
        doors: int = 24,
        *,
        close_after_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._doors = doors
        self._close_after_s = close_after_s
        self._clock = clock
        self._opened_at: dict[int, float] = {}
        self._items = set(range(1, doors + 1))  # the demo locker starts fully loaded
        self._jammed: set[int] = set()
        self._status = DeviceStatus.ready()
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: SimulatedLockerConfig, ctx: BuildContext) -> SimulatedLocker:
        return cls(config.doors, close_after_s=config.close_after_s)

    @property
    def door_count(self) -> int:
        return self._doors

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def jam(self, door: int) -> None:
        self._jammed.add(door)

    def load(self, door: int) -> None:
        with self._lock:
            self._items.add(door)

    def status(self) -> DeviceStatus:
        return self._status

    def open_door(self, door: int) -> DoorOutcome:
        if not 1 <= door <= self._doors:
            return DoorOutcome.NO_SUCH_DOOR
        if not self._status.usable:
            return DoorOutcome.FAULT
        if door in self._jammed:
            return DoorOutcome.JAMMED
        with self._lock:
            self._opened_at[door] = self._clock()
        return DoorOutcome.OPENED

    def door_state(self, door: int) -> DoorState | None:
        if not 1 <= door <= self._doors or not self._status.usable:
            return None
        with self._lock:
            opened = self._opened_at.get(door)
            if opened is not None and self._clock() - opened >= self._close_after_s:
                # The simulated citizen has taken the certificate and shut the door.
                del self._opened_at[door]
                self._items.discard(door)
                opened = None
            return DoorState(door, opened is not None, door in self._items)

    def door_states(self) -> dict[int, DoorState | None]:
        return {door: self.door_state(door) for door in range(1, self._doors + 1)}

    def self_test(self) -> DeviceStatus:
        return self._status
