"""The face check's gate: a frame is taken only when it shows exactly one face, large enough,
centred and sharp; otherwise the citizen is told what to do. No liveness and no matching here:
the best frame goes to the back office, which decides."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from devices.camera.protocol import FaceCheck, FaceOutcome


@dataclass(frozen=True)
class FaceGate:
    min_face_share: float = 0.18  # of the frame's height
    max_offset_share: float = 0.22  # of the frame's width/height, from the centre
    min_sharpness: float = 60.0  # variance of the Laplacian inside the face


@cache
def _cascade() -> Any:
    import cv2

    folder = cv2.data.haarcascades  # type: ignore[attr-defined]  # (not in OpenCV's stubs)
    cascade = cv2.CascadeClassifier(folder + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV's frontal face cascade is missing")
    return cascade


DEFAULT_GATE = FaceGate()


def assess(frame: Any, gate: FaceGate = DEFAULT_GATE) -> FaceCheck:
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    h, w = grey.shape[:2]
    faces = _cascade().detectMultiScale(grey, 1.1, 5, minSize=(int(h * 0.08),) * 2)
    if len(faces) == 0:
        return FaceCheck(FaceOutcome.PENDING, guidance="look_at_screen")
    if len(faces) > 1:
        return FaceCheck(FaceOutcome.PENDING, guidance="one_person")
    x, y, fw, fh = (int(v) for v in faces[0])
    if fh < gate.min_face_share * h:
        return FaceCheck(FaceOutcome.PENDING, guidance="come_closer")
    cx, cy = x + fw / 2, y + fh / 2
    if abs(cx - w / 2) > gate.max_offset_share * w or abs(cy - h / 2) > gate.max_offset_share * h:
        return FaceCheck(FaceOutcome.PENDING, guidance="move_to_centre")
    if cv2.Laplacian(grey[y:y + fh, x:x + fw], cv2.CV_64F).var() < gate.min_sharpness:
        return FaceCheck(FaceOutcome.PENDING, guidance="hold_still")
    # Only the head and some margin leave the camera: no more of the citizen (or of whoever
    # stands behind them) than the comparison needs, and a small image to send.
    margin = fw // 2
    top, left = max(0, y - margin), max(0, x - margin)
    head = frame[top:min(h, y + fh + margin), left:min(w, x + fw + margin)]
    ok, jpeg = cv2.imencode(".jpg", head, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        return FaceCheck(FaceOutcome.FAULT)
    return FaceCheck(FaceOutcome.CAPTURED, bytes(jpeg))  # in memory only, wiped with the session
