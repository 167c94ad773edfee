"""Identify and verify, as session steps: a document from any fitted source
(devices/id_reader/sources.py), then a face from the camera."""

from __future__ import annotations

from devices.camera.protocol import Camera, FaceCheck, FaceOutcome
from devices.id_reader.sources import SourceRead, card_left, read_first_document
from devices.worker import DeviceWorker

__all__ = ["SourceRead", "card_left", "check_face", "read_first_document"]


def _check_face(camera: Camera) -> FaceCheck:
    return camera.check_face()


def check_face(camera: DeviceWorker[Camera], timeout_s: float) -> FaceCheck:
    return camera.call(_check_face, FaceCheck(FaceOutcome.FAULT), timeout_s=timeout_s,
                       what="face check").value
