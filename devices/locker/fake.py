"""An in-memory locker for unit tests: doors open on command and close when told."""

from __future__ import annotations

from devices.locker.protocol import DoorOutcome, DoorState
from devices.status import DeviceStatus


class FakeLocker:
    def __init__(self, doors: int = 12) -> None:
        self._status = DeviceStatus.ready()
        self._open = [False] * doors
        self._items = [False] * doors
        self.jam: set[int] = set()
        self.opened: list[int] = []

    @property
    def door_count(self) -> int:
        return len(self._open)

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def load(self, door: int) -> None:
        self._items[door - 1] = True

    def close(self, door: int) -> None:
        """The door is shut, whatever is inside."""
        self._open[door - 1] = False

    def citizen_takes_item_and_closes(self, door: int) -> None:
        self._items[door - 1] = False
        self._open[door - 1] = False

    def status(self) -> DeviceStatus:
        return self._status

    def open_door(self, door: int) -> DoorOutcome:
        if not 1 <= door <= self.door_count:
            return DoorOutcome.NO_SUCH_DOOR
        if not self._status.usable:
            return DoorOutcome.FAULT
        if door in self.jam:
            return DoorOutcome.JAMMED
        self._open[door - 1] = True
        self.opened.append(door)
        return DoorOutcome.OPENED

    def door_state(self, door: int) -> DoorState | None:
        if not 1 <= door <= self.door_count or not self._status.usable:
            return None
        return DoorState(door, self._open[door - 1], self._items[door - 1])

    def door_states(self) -> dict[int, DoorState | None]:
        return {door: self.door_state(door) for door in range(1, self.door_count + 1)}

    def self_test(self) -> DeviceStatus:
        return self._status
