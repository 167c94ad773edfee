"""A camera simulator for the demo: a face is in front of it a moment after it starts looking.

Chosen only explicitly; OpenCV capture, zxing QR decoding and face detection come with the
real adapter. QR codes can be shown to it by the test or the technician (`show_qr`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import Field

from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.config import AdapterConfig, BuildContext
from devices.status import DeviceStatus


class SimulatedCameraConfig(AdapterConfig):
    adapter: Literal["simulator"] = "simulator"
    """The demo's camera: a face is in front of it a moment after it starts looking."""
    face_after_s: float = Field(default=1.2, ge=0)
    """How long until the simulated citizen's face is usable."""

    INSTANT: ClassVar[dict[str, Any]] = {"face_after_s": 0.0}


class SimulatedCamera:
    def __init__(
        self, *, face_after_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._face_after_s = face_after_s
        self._clock = clock
        self._looking_since: float | None = None
        self._codes: deque[str] = deque()
        self._status = DeviceStatus.ready()

    @classmethod
    def from_config(cls, config: SimulatedCameraConfig, ctx: BuildContext) -> SimulatedCamera:
        return cls(face_after_s=config.face_after_s)

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def show_qr(self, text: str) -> None:
        self._codes.append(text)

    def status(self) -> DeviceStatus:
        return self._status

    def scan_qr(self) -> str | None:
        return self._codes.popleft() if self._codes and self._status.usable else None

    def check_face(self) -> FaceCheck:
        if not self._status.usable:
            return FaceCheck(FaceOutcome.FAULT)
        now = self._clock()
        if self._looking_since is None:
            self._looking_since = now
        if now - self._looking_since < self._face_after_s:
            return FaceCheck(FaceOutcome.PENDING)
        self._looking_since = None
        return FaceCheck(FaceOutcome.CAPTURED, b"\xff\xd8simulated-best-frame")

    def self_test(self) -> DeviceStatus:
        return self._status
