"""Settings of RS-485 locker boards: 8A/80 (`rs485_8a80`) and Kerong-style (`rs485_kerong`).

The compartments are data: each names the board and lock behind it and where it sits on the
screen's map. A profile lists them as `[[devices.locker.compartments]]`; without the list,
`doors = N` is locks 1..N of the first board.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.config import SerialPortConfig
from devices.locker.rs485.limits import LOCKS_PER_BOARD

MAP_ROWS = 8  # the default layout fills columns of 8 compartments


class Compartment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    """The compartment's number: what staff load and the pickup code names."""
    board: int = Field(ge=0, le=255)
    """Address of the board its lock hangs on (the board's DIP switches)."""
    lock: int = Field(ge=1, le=LOCKS_PER_BOARD)
    """The lock's number on that board (its connector, 1-24)."""
    size: Literal["small", "medium", "large"] = "medium"
    """What fits in it, for staff choosing a compartment."""
    label: str = Field(min_length=1)
    """What is printed on its door (e.g. A-03), shown to the citizen."""
    column: int = Field(ge=1)
    """Its column on the screen's map of the locker, from the left."""
    row: int = Field(ge=1)
    """Its row on the screen's map of the locker, from the top."""


class _Rs485Board(SerialPortConfig):
    FIRST_BOARD: ClassVar[int]  # the address a board has out of the box

    doors: int = Field(default=24, gt=0, le=512)
    """Number of compartments: without `compartments`, locks 1..N of the first board; with
    them it may be left out (it is their count)."""
    compartments: tuple[Compartment, ...] = ()
    """The compartments (`[[devices.locker.compartments]]`): number, board, lock, size,
    label and place on the map; empty for locks 1..`doors` of the first board."""
    invert_doors: bool = False
    """Set when the board's door bit reads 1 for a closed door (depends on the wiring)."""
    invert_items: bool = False
    """Set when the board's infrared bit reads 1 for an empty compartment."""
    open_confirm_s: float = Field(default=2.0, gt=0)
    """How long the door sensor has to show the door open after the unlock before it is
    reported jammed."""
    reply_timeout_s: float = Field(default=0.3, gt=0)
    """How long a board has to answer one request before it counts as silent."""

    @model_validator(mode="before")
    @classmethod
    def _doors_of_the_compartments(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("compartments") and "doors" not in data:
            return {**data, "doors": len(data["compartments"])}
        return data

    @model_validator(mode="after")
    def _one_layout(self) -> _Rs485Board:
        if not self.compartments:
            if self.doors > LOCKS_PER_BOARD:
                raise ValueError(f"doors = {self.doors} is more than one board's "
                                 f"{LOCKS_PER_BOARD} locks: list the compartments as "
                                 "[[devices.locker.compartments]]")
            return self
        if self.doors != len(self.compartments):
            raise ValueError(f"doors = {self.doors}, but compartments lists "
                             f"{len(self.compartments)}")
        _refuse_twice([c.number for c in self.compartments], "compartment number")
        _refuse_twice([f"{c.board} lock {c.lock}" for c in self.compartments], "board")
        return self

    def layout(self) -> tuple[Compartment, ...]:
        """The compartments in number order: the listed ones, or locks 1..`doors` of the
        first board numbered 1..N, labelled 01..N, in columns of 8."""
        if self.compartments:
            return tuple(sorted(self.compartments, key=lambda c: c.number))
        return default_layout(self.doors, self.FIRST_BOARD)


def default_layout(doors: int, board: int) -> tuple[Compartment, ...]:
    """Locks 1..`doors` of one board, numbered 1..N, labelled 01..N, in columns of 8."""
    return tuple(Compartment(number=n, board=board, lock=n, label=f"{n:02d}",
                             column=(n - 1) // MAP_ROWS + 1, row=(n - 1) % MAP_ROWS + 1)
                 for n in range(1, doors + 1))


def _refuse_twice(values: list[object], what: str) -> None:
    twice = [v for v, n in Counter(values).items() if n > 1]
    if twice:
        raise ValueError(f"compartments: {what} {twice[0]} is listed twice")


class Rs485_8a80Config(_Rs485Board):  # the board protocol's name
    FIRST_BOARD: ClassVar[int] = 1

    adapter: Literal["rs485_8a80"] = "rs485_8a80"
    """Boards that speak 8A/80 frames with an XOR checksum."""
    baudrate: int = Field(default=9600, gt=0)
    """Line speed; these boards answer at 9600 8N1."""


class Rs485KerongConfig(_Rs485Board):
    FIRST_BOARD: ClassVar[int] = 0

    adapter: Literal["rs485_kerong"] = "rs485_kerong"
    """Kerong-style CU boards: 02 .. 03 frames with a sum checksum."""
    baudrate: int = Field(default=19200, gt=0)
    """Line speed; these boards answer at 19200 8N1."""
