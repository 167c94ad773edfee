"""Settings of the resident ID SAM reader on a serial line (`sam_serial`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import SerialPortConfig


class SamSerialConfig(SerialPortConfig):
    adapter: Literal["sam_serial"] = "sam_serial"
    """Resident ID card reader with a SAM module (frames AA AA AA 96 69)."""
    baudrate: int = Field(default=115200, gt=0)
    """Line speed; SAM modules answer at 115200 8N1."""

    def accepts(self) -> tuple[str, ...]:
        return ("resident_id", "residence_permit")
