"""An in-memory camera for unit tests: the test queues QR codes and face outcomes."""

from __future__ import annotations

from collections import deque

from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.status import DeviceStatus


class FakeCamera:
    def __init__(self) -> None:
        self._status = DeviceStatus.ready()
        self._codes: deque[str] = deque()
        self._faces: deque[FaceCheck] = deque()

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def show_qr(self, text: str) -> None:
        self._codes.append(text)

    def show_face(self, outcome: FaceOutcome = FaceOutcome.CAPTURED) -> None:
        frame = b"\xff\xd8fake-jpeg" if outcome is FaceOutcome.CAPTURED else None
        self._faces.append(FaceCheck(outcome, frame))

    def status(self) -> DeviceStatus:
        return self._status

    def scan_qr(self) -> str | None:
        return self._codes.popleft() if self._codes and self._status.usable else None

    def check_face(self) -> FaceCheck:
        if not self._status.usable:
            return FaceCheck(FaceOutcome.FAULT)
        return self._faces.popleft() if self._faces else FaceCheck(FaceOutcome.PENDING)

    def self_test(self) -> DeviceStatus:
        return self._status
