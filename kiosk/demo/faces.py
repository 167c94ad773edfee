"""The demo citizens' face, from an installed package (skimage.data.astronaut: a NASA portrait
in the public domain): what the demo's camera sees, and the photo on file at the embedded back
office and in the demo passport. Needs the `demo` extra (scikit-image)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

FRAME_SIZE = (1280, 720)
_GREY = 128


def _portrait() -> Any:
    from skimage import data

    astronaut = data.astronaut()  # type: ignore[no-untyped-call]
    return cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)[0:300, 60:412]  # head and shoulders


def camera_scene(*, face: bool) -> Any:
    """A 1280x720 camera frame: the citizen in front of the screen, or nobody."""
    width, height = FRAME_SIZE
    frame = np.full((height, width, 3), _GREY, dtype=np.uint8)
    if face:
        portrait = cv2.resize(_portrait(), None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
        h, w = portrait.shape[:2]
        top, left = (height - h) // 2, (width - w) // 2
        frame[top:top + h, left:left + w] = portrait
    return frame


def photo_on_file() -> bytes:
    """The document photo: a smaller, tighter, duller portrait of the same person, as JPEG."""
    photo = _portrait()[10:300, 70:290]
    photo = cv2.resize(photo, (240, 316), interpolation=cv2.INTER_AREA)
    photo = cv2.convertScaleAbs(photo, alpha=0.85, beta=15)
    ok, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise RuntimeError("could not encode the demo photo")
    return bytes(jpeg)
