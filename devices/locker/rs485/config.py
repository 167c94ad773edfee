"""Settings of RS-485 locker boards: 8A/80 (`rs485_8a80`) and Kerong-style (`rs485_kerong`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import SerialPortConfig


class _Rs485Board(SerialPortConfig):
    doors: int = Field(default=24, gt=0, le=512)
    """Number of compartments: locks 1..N on the first board."""
    invert_doors: bool = False
    """Set when the board's door bit reads 1 for a closed door (depends on the wiring)."""
    invert_items: bool = False
    """Set when the board's infrared bit reads 1 for an empty compartment."""


class Rs485_8a80Config(_Rs485Board):  # the board protocol's name
    adapter: Literal["rs485_8a80"] = "rs485_8a80"
    """Boards that speak 8A/80 frames with an XOR checksum."""
    baudrate: int = Field(default=9600, gt=0)
    """Line speed; these boards answer at 9600 8N1."""


class Rs485KerongConfig(_Rs485Board):
    adapter: Literal["rs485_kerong"] = "rs485_kerong"
    """Kerong-style CU boards: 02 .. 03 frames with a sum checksum."""
    baudrate: int = Field(default=19200, gt=0)
    """Line speed; these boards answer at 19200 8N1."""
