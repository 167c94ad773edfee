"""Rs485Locker: the certificate locker's lock boards on one RS-485 bus, 8A/80 (`rs485_8a80`)
or Kerong-style CU (`rs485_kerong`), with the compartments laid out over them as data.

A door is opened by one unlock that the adapter never sends again by itself (a second pulse on
a door that is in fact open, or on a lock that is jammed, helps nobody and hides the fault). It
is reported opened only once its door sensor shows it open within `open_confirm_s`, otherwise
jammed. Which bit state means open, or loaded, is the wiring's: `invert_doors` and
`invert_items`. Trouble is a value: a board that is silent or answers garbage makes the door
a fault or its sensors unknown (None), never an exception.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum

from devices.config import BuildContext
from devices.links import LinkError, SerialLink
from devices.locker.protocol import DoorOutcome, DoorState
from devices.locker.rs485.bus import BoardSilent, Bus, Bus8a80, BusKerong, Reading
from devices.locker.rs485.config import Compartment, Rs485_8a80Config, Rs485KerongConfig
from devices.locker.rs485.frames import FrameError
from devices.status import DeviceState, DeviceStatus, LinkReason

log = logging.getLogger(__name__)
CONFIRM_POLL_S = 0.001  # between door readings while an unlocked door should spring open:
# the bus is ours meanwhile, so the sensor is read back to back (each reading takes its line time)
BUSES: dict[str, Callable[[SerialLink, float], Bus]] = {
    "rs485_8a80": Bus8a80, "rs485_kerong": BusKerong}


class LockerReason(StrEnum):
    BAD_REPLY = "bad_reply"  # a board answers frames that do not check: wiring, baud, noise


class Rs485Locker:
    def __init__(self, bus: Bus, layout: tuple[Compartment, ...], *,
                 invert_doors: bool = False, invert_items: bool = False,
                 open_confirm_s: float = 2.0) -> None:
        self._bus = bus
        self._layout = layout
        self._by_number = {c.number: c for c in layout}
        self._boards = sorted({c.board for c in layout})
        self._invert_doors, self._invert_items = invert_doors, invert_items
        self._open_confirm_s = open_confirm_s

    @classmethod
    def from_config(cls, config: Rs485_8a80Config | Rs485KerongConfig,
                    ctx: BuildContext) -> Rs485Locker:
        link = SerialLink(config.port, baudrate=config.baudrate)
        return cls(BUSES[config.adapter](link, config.reply_timeout_s), config.layout(),
                   invert_doors=config.invert_doors, invert_items=config.invert_items,
                   open_confirm_s=config.open_confirm_s)

    @property
    def compartments(self) -> tuple[Compartment, ...]:
        """The layout, in number order: which board and lock, size, label, place on the map."""
        return self._layout

    @property
    def door_count(self) -> int:
        return len(self._layout)

    # ---------------------------------------------------------------- status
    def release(self) -> None:
        """Let go of the bus's serial port (the worker does, when it stops)."""
        self._bus.link.close()

    def status(self) -> DeviceStatus:
        """Every board is asked. One that is silent makes the whole locker offline, naming it,
        rather than degraded: the compartments behind it can be neither opened nor watched,
        and a citizen sent to collect from one of them would be turned away at the door."""
        silent: list[int] = []
        garbled: list[tuple[int, FrameError]] = []
        for board in self._boards:
            try:
                self._bus.read(board, items=False)
            except LinkError as e:
                return DeviceStatus.offline(LinkReason.NOT_CONNECTED, str(e))
            except BoardSilent:
                silent.append(board)
            except FrameError as e:
                garbled.append((board, e))
        where = self._bus.link.name
        if silent:
            behind = sum(1 for c in self._layout if c.board in silent)
            return DeviceStatus(
                DeviceState.OFFLINE, LinkReason.NOT_ANSWERING,
                f"{_boards(silent)} on {where}: no answer ({behind} compartment"
                f"{'s' if behind != 1 else ''} cannot be opened)")
        if garbled:
            board, error = garbled[0]
            return DeviceStatus.fault(
                LockerReason.BAD_REPLY,
                f"{_boards([b for b, _ in garbled])} on {where}: garbled answers "
                f"(board {board}: {error})")
        return DeviceStatus.ready()

    def self_test(self) -> DeviceStatus:
        status = self.status()
        if not status.usable:
            return status
        states = [s for s in self.door_states().values() if s is not None]
        loaded = (f"{sum(s.item_present for s in states)} loaded"
                  if all(s.item_known for s in states) else "items not sensed")
        return replace(status, message=(
            f"{self.door_count} compartments on {_boards(self._boards)}: "
            f"{sum(s.is_open for s in states)} open, {loaded}"))

    # ---------------------------------------------------------------- doors
    def open_door(self, door: int) -> DoorOutcome:
        """Takes at most `open_confirm_s` from the unlock plus one last reading
        (`reply_timeout_s`): 2.3 s with the defaults, inside the worker's 3 s call deadline."""
        compartment = self._by_number.get(door)
        if compartment is None:
            return DoorOutcome.NO_SUCH_DOOR
        sent_at = time.monotonic()
        try:
            self._bus.unlock(compartment.board, compartment.lock)
        except LinkError as e:
            log.warning("locker door %d: unlock not sent: %s", door, e)
            return DoorOutcome.FAULT
        except (BoardSilent, FrameError) as e:
            # The board may have heard it and its answer be lost or garbled: the door may be
            # open. Its sensor decides (a board that hears nothing reads as FAULT there).
            log.warning("locker door %d: no good acknowledgement: %s", door, e)
        return self._confirm(compartment, sent_at + self._open_confirm_s)

    def _confirm(self, compartment: Compartment, deadline: float) -> DoorOutcome:
        """OPENED once the sensor shows the door open by the deadline; JAMMED if it was read
        and never did; FAULT if it could not be read at all."""
        read_once = False
        while True:
            try:
                reading = self._bus.read(compartment.board, items=False)
            except LinkError as e:
                log.warning("locker door %d: %s", compartment.number, e)
                return DoorOutcome.FAULT
            except (BoardSilent, FrameError) as e:
                log.warning("locker door %d: sensor not read: %s", compartment.number, e)
            else:
                read_once = True
                if self._state(compartment, reading).is_open:
                    return DoorOutcome.OPENED
            if time.monotonic() >= deadline:
                break
            time.sleep(CONFIRM_POLL_S)
        log.warning("locker door %d did not open within %.1f s", compartment.number,
                    self._open_confirm_s)
        return DoorOutcome.JAMMED if read_once else DoorOutcome.FAULT

    def door_state(self, door: int) -> DoorState | None:
        compartment = self._by_number.get(door)
        if compartment is None:
            return None
        reading = self._read(compartment.board)
        return self._state(compartment, reading) if reading is not None else None

    def door_states(self) -> dict[int, DoorState | None]:
        readings = {board: self._read(board) for board in self._boards}
        states: dict[int, DoorState | None] = {}
        for c in self._layout:
            reading = readings[c.board]
            states[c.number] = self._state(c, reading) if reading is not None else None
        return states

    def _read(self, board: int) -> Reading | None:
        try:
            return self._bus.read(board)
        except (LinkError, BoardSilent, FrameError) as e:
            log.info("locker board %d not read: %s", board, e)
            return None

    def _state(self, compartment: Compartment, reading: Reading) -> DoorState:
        bit = 1 << (compartment.lock - 1)
        is_open = bool(reading.doors & bit) != self._invert_doors
        if reading.items is None:
            return DoorState(compartment.number, is_open, False, item_known=False)
        present = bool(reading.items & bit) != self._invert_items
        return DoorState(compartment.number, is_open, present)


def _boards(addresses: list[int]) -> str:
    """`locker board 2`, `locker boards 1, 2`: the addresses a technician sets on the boards."""
    listed = ", ".join(str(a) for a in addresses)
    return f"locker board {listed}" if len(addresses) == 1 else f"locker boards {listed}"
