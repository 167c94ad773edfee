"""Identify and verify, as session steps: a document from any fitted source
(devices/id_reader/sources.py), then a face from the camera, then the back office's verdict
on that face."""

from __future__ import annotations

from devices.camera.protocol import Camera, FaceCheck, FaceOutcome
from devices.id_reader.protocol import Identity
from devices.id_reader.sources import SourceRead, card_left, read_first_document
from devices.worker import DeviceWorker
from kiosk.session.ports import FaceAnswer, FaceVerifier

__all__ = ["SourceRead", "card_left", "check_face", "read_first_document",
           "verify_face"]


def _check_face(camera: Camera) -> FaceCheck:
    return camera.check_face()


def check_face(camera: DeviceWorker[Camera], timeout_s: float) -> FaceCheck:
    return camera.call(_check_face, FaceCheck(FaceOutcome.FAULT), timeout_s=timeout_s,
                       what="face check").value


# Document photos the back office can compare with (a SAM card's WLT photo needs a vendor
# decoder this terminal does not have: the back office uses its own photo on file instead).
COMPARABLE_PHOTOS = frozenset({"jpeg", "jpeg2000", "png"})


def verify_face(faces: FaceVerifier | None, identity: Identity,
                live_frame: bytes) -> FaceAnswer | None:
    """The back office's verdict on the frame against the document; None when it cannot be
    asked (no back office configured, unreachable, garbage)."""
    if faces is None:
        return None
    photo = identity.photo
    document_photo = photo.data if photo is not None and photo.format in COMPARABLE_PHOTOS \
        else None
    return faces.verify_face(identity.id_number, live_frame, document_photo)
