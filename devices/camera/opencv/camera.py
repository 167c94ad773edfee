"""OpencvCamera (`opencv`): QR codes (zxing-cpp) and the gated face check, one frame a call."""

from __future__ import annotations

from devices.camera.opencv.config import OpencvCameraConfig
from devices.camera.opencv.face import DEFAULT_GATE, FaceGate, assess
from devices.camera.opencv.frames import FrameSource
from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.camera.qr import decode_qr
from devices.config import BuildContext
from devices.status import DeviceStatus, LinkReason


class OpencvCamera:
    def __init__(self, frames: FrameSource, gate: FaceGate = DEFAULT_GATE) -> None:
        self._frames = frames
        self._gate = gate

    @classmethod
    def from_config(cls, config: OpencvCameraConfig, ctx: BuildContext) -> OpencvCamera:
        return cls(FrameSource(config.source, config.width, config.height),
                   FaceGate(config.min_face_share, config.max_face_offset, config.min_sharpness))

    def status(self) -> DeviceStatus:
        if self._frames.read() is None:
            return DeviceStatus.offline(LinkReason.NOT_CONNECTED,
                                        f"camera {self._frames.name} gives no frames")
        return DeviceStatus.ready()

    def self_test(self) -> DeviceStatus:
        return self.status()

    def scan_qr(self) -> str | None:
        frame = self._frames.read()
        if frame is None:
            return None
        codes = decode_qr(frame)
        return codes[0] if codes else None

    def check_face(self) -> FaceCheck:
        frame = self._frames.read()
        if frame is None:
            return FaceCheck(FaceOutcome.FAULT)
        return assess(frame, self._gate)
