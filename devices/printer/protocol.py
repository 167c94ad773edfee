"""What a receipt printer does: print a receipt and say whether it can."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from devices.status import DeviceStatus


@dataclass(frozen=True)
class Receipt:
    title: str
    lines: tuple[str, ...] = ()
    qr_data: str | None = None  # e.g. a verification or tracking URL
    footer: str = ""
    logo: bytes | None = None  # an image file (PNG, JPEG), printed at the top


class PrintFailure(StrEnum):
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    FAULT = "fault"


@dataclass(frozen=True)
class PrintResult:
    failure: PrintFailure | None = None
    detail: str = ""
    # What was printed, as text, for the audit trail and tests.
    printed_text: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.failure is None


class ReceiptPrinter(Protocol):
    def status(self) -> DeviceStatus: ...

    def print_receipt(self, receipt: Receipt) -> PrintResult: ...

    def self_test(self) -> DeviceStatus: ...
