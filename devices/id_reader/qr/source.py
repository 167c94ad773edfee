"""The camera as an identity source: a QR code in view is verified offline and, if good,
read as the citizen's identity. It is watched with the card readers, behind a worker of its
own; the frames come through the camera's worker."""

from __future__ import annotations

import logging

from devices.camera.protocol import Camera
from devices.id_reader.protocol import ReadFailure, ReadResult
from devices.id_reader.qr.token import TokenRefusal, TokenVerifier
from devices.status import DeviceStatus
from devices.worker import DeviceWorker

log = logging.getLogger(__name__)


def _scan(camera: Camera) -> str | None:
    return camera.scan_qr()


class CameraQrSource:
    def __init__(self, camera: DeviceWorker[Camera], verifier: TokenVerifier,
                 timeout_s: float = 2.0) -> None:
        self._camera = camera
        self._verifier = verifier
        self._timeout_s = timeout_s

    def status(self) -> DeviceStatus:
        return self._camera.report().status

    def self_test(self) -> DeviceStatus:
        return self.status()

    def read(self) -> ReadResult:
        called = self._camera.call(_scan, None, timeout_s=self._timeout_s, what="scan QR")
        if called.problem is not None:
            return ReadResult(failure=ReadFailure.DEVICE_FAULT)
        if called.value is None:
            return ReadResult(failure=ReadFailure.NO_CARD)
        check = self._verifier.verify(called.value)
        if check.identity is not None:
            return ReadResult(identity=check.identity)
        log.info("identity QR refused: %s %s", check.refusal, check.detail)
        return ReadResult(failure=ReadFailure.QR_EXPIRED if check.refusal is TokenRefusal.EXPIRED
                          else ReadFailure.QR_INVALID)

    def stop(self) -> None:
        """The camera keeps looking only while it is asked."""

    def card_present(self) -> bool:
        return False  # a phone is never left behind in the reader
