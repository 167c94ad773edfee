"""Settings of ESC/POS receipt printers: network, USB and serial (`escpos_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from devices.config import AdapterConfig, SerialPortConfig


class _Escpos(AdapterConfig):
    model: str = "default"
    """The printer's python-escpos capability profile (code pages, QR support, paper width)."""

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        from escpos.capabilities import CAPABILITIES

        known = sorted(CAPABILITIES["profiles"])
        if v not in known:
            raise ValueError(f"unknown printer model {v!r}; python-escpos knows: "
                             + ", ".join(known))
        return v


class EscposNetworkConfig(_Escpos):
    adapter: Literal["escpos_network"] = "escpos_network"
    """An ESC/POS printer on the network (raw TCP, usually port 9100)."""
    host: str = Field(min_length=1)
    """The printer's host name or address."""
    tcp_port: int = Field(default=9100, gt=0, lt=65536)
    """TCP port of the printer's raw print service."""


class EscposUsbConfig(_Escpos):
    adapter: Literal["escpos_usb"] = "escpos_usb"
    """An ESC/POS printer on USB."""
    usb_vendor: int = Field(ge=0, le=0xFFFF)
    """USB vendor id (e.g. 0x04b8)."""
    usb_product: int = Field(ge=0, le=0xFFFF)
    """USB product id."""


class EscposSerialConfig(_Escpos, SerialPortConfig):
    adapter: Literal["escpos_serial"] = "escpos_serial"
    """An ESC/POS printer on a serial line."""
    baudrate: int = Field(default=19200, gt=0)
    """Line speed the printer is set to."""
