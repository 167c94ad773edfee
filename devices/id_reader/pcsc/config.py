"""Settings of a PC/SC reader for passports (ICAO 9303) and bank cards (EMV), `pcsc`."""

from __future__ import annotations

from typing import Literal

from devices.config import AdapterConfig


class PcscConfig(AdapterConfig):
    adapter: Literal["pcsc"] = "pcsc"
    """A contact or contactless reader reached through pcscd."""
    reader: str | None = None
    """The reader's name or a part of it (as pcscd lists it); none: the first reader found."""
    documents: tuple[Literal["passport", "bank_card", "staff_badge"], ...] = ("bank_card",)
    """Which documents this reader is used for."""

    def accepts(self) -> tuple[str, ...]:
        return tuple(d for d in self.documents if d != "staff_badge")  # staff only
