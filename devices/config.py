"""What every adapter's configuration model shares.

Each adapter declares its settings as a pydantic model beside its code, one docstring per field;
the registry (devices/registry.py) puts them into a union discriminated on `adapter`, and the
deployment profile validates `[devices.<kind>]` against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class AdapterConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True,
                              defer_build=True)

    adapter: str
    """Which adapter drives the device (see `kiosk device list`)."""

    # A simulator's settings for headless runs (`kiosk simulate`): the citizen acts at once.
    INSTANT: ClassVar[dict[str, Any]] = {}

    def accepts(self) -> tuple[str, ...]:
        """For identity readers: the documents a citizen can present to it (resident_id,
        residence_permit, passport, bank_card); other kinds accept none."""
        return ()


class SerialPortConfig(AdapterConfig):
    """An adapter that speaks over a serial line (RS-232, RS-485, USB serial, a pty)."""

    port: str = Field(min_length=1)
    """Serial port: a device (/dev/ttyUSB0), a pty, or a pyserial URL (socket://host:port)."""


@dataclass(frozen=True)
class BuildContext:
    """What an adapter may need from the terminal when it is built."""

    data_dir: Path  # the terminal's own directory (a simulator writes what it "prints" here)
