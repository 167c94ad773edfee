"""What an identity reader does: tell whether a document is there and read who it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from devices.status import DeviceStatus


class DocumentKind(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证 read through the SAM module
    PASSPORT = "passport"  # ICAO 9303, PC/SC
    BANK_CARD = "bank_card"  # EMV public data only
    QR_CODE = "qr_code"  # an identity QR from the citizen's phone


@dataclass(frozen=True)
class Identity:
    """The personal data read from a document. It must never outlive the session."""

    kind: DocumentKind
    id_number: str
    name: str
    sex: str = ""
    birth_date: str = ""  # YYYYMMDD
    address: str = ""
    valid_to: str = ""  # YYYYMMDD or "长期"


class ReadFailure(StrEnum):
    NO_CARD = "no_card"  # nothing presented yet: keep waiting
    CARD_PULLED = "card_pulled"  # taken away mid-read
    UNREADABLE = "unreadable"  # present but the read failed (dirty, damaged, unknown kind)
    INVALID_NUMBER = "invalid_number"  # read, but the ID number fails its check digit
    DEVICE_FAULT = "device_fault"


@dataclass(frozen=True)
class ReadResult:
    identity: Identity | None = None
    failure: ReadFailure | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None


class IdReader(Protocol):
    def status(self) -> DeviceStatus: ...

    def read(self) -> ReadResult:
        """Look once for a document and read it; never waits long (a poll, not a wait)."""
        ...

    def stop(self) -> None:
        """Stop looking: another identity source was presented first, or the wait is over."""
        ...

    def card_present(self) -> bool:
        """Whether a document is still on or in the reader (to call out a forgotten card)."""
        ...

    def self_test(self) -> DeviceStatus: ...
