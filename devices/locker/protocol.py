"""What a certificate locker does: open one door and report doors and items."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from devices.status import DeviceStatus


class DoorOutcome(StrEnum):
    OPENED = "opened"  # confirmed by the door sensor
    JAMMED = "jammed"  # commanded, but the sensor never showed it open within the window
    NO_SUCH_DOOR = "no_such_door"
    FAULT = "fault"


@dataclass(frozen=True)
class DoorState:
    door: int
    is_open: bool
    item_present: bool  # False too when not known
    item_known: bool = True  # False: the compartment has no item sensor


class Locker(Protocol):
    def status(self) -> DeviceStatus: ...

    @property
    def door_count(self) -> int: ...

    def open_door(self, door: int) -> DoorOutcome:
        """Open one door once. Never retried blindly: a jam is reported, not re-driven."""
        ...

    def door_state(self, door: int) -> DoorState | None:
        """The door and item sensors, or None when the board does not answer."""
        ...

    def door_states(self) -> dict[int, DoorState | None]:
        """Every door's sensors, in door order (one reading per board: the whole locker at
        the cost of its boards, not its doors); None for a door whose board does not
        answer."""
        ...

    def self_test(self) -> DeviceStatus: ...
