"""What an identity reader does: tell whether a document is there and read who it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from devices.status import DeviceStatus


class DocumentKind(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证 read through the SAM module
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"  # 港澳台居民居住证 (SAM, card type J)
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"  # 外国人永久居留身份证 (SAM, I)
    PASSPORT = "passport"  # ICAO 9303, PC/SC
    BANK_CARD = "bank_card"  # EMV public data only
    QR_CODE = "qr_code"  # an identity QR from the citizen's phone


@dataclass(frozen=True)
class Photo:
    """The document's photo as the reader gave it. Personal data: wiped with the session, and
    never shown back on screen."""

    data: bytes
    format: str  # "wlt" (SAM, compressed: needs a vendor decoder), "jpeg", "jpeg2000"


@dataclass(frozen=True)
class Identity:
    """The personal data read from a document, whatever the document. It must never outlive
    the session."""

    kind: DocumentKind
    id_number: str  # the document's number (ID number, permit number, passport number)
    name: str  # as printed in Chinese, or in Latin letters when there is no Chinese name
    sex: str = ""  # 男 / 女 / "" (not stated)
    birth_date: str = ""  # YYYYMMDD
    address: str = ""
    valid_to: str = ""  # YYYYMMDD, or 长期 (no end)
    name_latin: str = ""  # the name in Latin letters (permits, passports)
    ethnic_group: str = ""  # 民族, resident ID cards
    nationality: str = ""  # ISO 3166-1 alpha-3 (CHN for resident IDs)
    issuer: str = ""  # the issuing authority, as printed
    valid_from: str = ""  # YYYYMMDD
    photo: Photo | None = None
    source: str = ""  # the reader that produced it (its worker name), for logs


class ReadFailure(StrEnum):
    NO_CARD = "no_card"  # nothing presented yet: keep waiting
    CARD_PULLED = "card_pulled"  # taken away mid-read
    UNREADABLE = "unreadable"  # present but the read failed (dirty, damaged, unknown kind)
    INVALID_NUMBER = "invalid_number"  # read, but the ID number fails its check digit
    EXPIRED = "expired"  # read, but the document is past its validity
    WRONG_CARD = "wrong_card"  # a card that is not an identity document the reader knows
    ACCESS_KEY_NEEDED = "access_key_needed"  # a passport: its MRZ details are needed first
    ACCESS_DENIED = "access_denied"  # a passport that refused the MRZ details given
    QR_EXPIRED = "qr_expired"  # an identity QR code past its few minutes: refresh it
    QR_INVALID = "qr_invalid"  # forged, altered, already used, or not an identity code
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
