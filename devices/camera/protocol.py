"""What the camera does for a session: read QR codes and check the face in front of it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from devices.status import DeviceStatus


class FaceOutcome(StrEnum):
    PENDING = "pending"  # no usable frame yet: keep looking
    CAPTURED = "captured"  # a best frame was taken; the back office decides on the match
    NO_FACE = "no_face"
    FAULT = "fault"


@dataclass(frozen=True)
class FaceCheck:
    outcome: FaceOutcome
    # An opaque best-frame blob (JPEG); personal data, wiped with the session.
    best_frame: bytes | None = None
    guidance: str = ""  # while PENDING: what the citizen should do (come_closer, ...)


class Camera(Protocol):
    def status(self) -> DeviceStatus: ...

    def scan_qr(self) -> str | None:
        """Look at one frame for a QR code; None when there is none (a poll, not a wait)."""
        ...

    def check_face(self) -> FaceCheck:
        """Look at one frame for a face; PENDING until a usable frame has been seen."""
        ...

    def self_test(self) -> DeviceStatus: ...
