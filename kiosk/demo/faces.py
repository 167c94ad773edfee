"""The demo citizens' face, from an installed package (skimage.data.astronaut: a NASA portrait
in the public domain): what the demo's camera sees, and the photo on file at the embedded back
office and in the demo passport. Needs the `demo` extra (scikit-image)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import requests

from kiosk.demo.enrolment import Reachable

if TYPE_CHECKING:
    from kiosk.config.profile import Profile

log = logging.getLogger(__name__)

FRAME_SIZE = (1280, 720)
_GREY = 128


@cache
def _portrait() -> Any:
    from skimage import data

    astronaut = data.astronaut()  # type: ignore[no-untyped-call]
    return cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)[0:300, 60:412]  # head and shoulders


def camera_scene(*, face: bool) -> Any:
    """A 1280x720 camera frame: the citizen in front of the screen, or nobody."""
    return _scene(face).copy()


@cache
def _scene(face: bool) -> Any:
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


def qr_scene(text: str) -> Any:
    """A 1280x720 camera frame of a phone's QR code held up to the camera."""
    import zxingcpp

    code = np.array(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6))
    width, height = FRAME_SIZE
    frame = np.full((height, width), 220, dtype=np.uint8)
    top, left = (height - code.shape[0]) // 2, (width - code.shape[1]) // 2
    frame[top:top + code.shape[0], left:left + code.shape[1]] = code
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


class CameraView:
    """What the demo's camera looks at: an image file that the real OpenCV adapter reads as
    its camera (it reads the file again whenever it changes). Nobody, the citizen's face, or
    a phone's QR code."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.show_nobody()

    def _show(self, frame: Any) -> None:
        partial = self.path.with_name(self.path.stem + ".partial" + self.path.suffix)
        if not cv2.imwrite(str(partial), frame):
            raise OSError(f"cannot write {partial}")
        partial.replace(self.path)  # the camera never reads half a frame

    def show_nobody(self) -> None:
        self._show(camera_scene(face=False))

    def show_face(self) -> None:
        self._show(camera_scene(face=True))

    def show_qr(self, text: str) -> None:
        self._show(qr_scene(text))


def with_camera_view(profile: Profile, view: CameraView) -> Profile:
    """The profile's camera becomes the real OpenCV adapter, looking at the view."""
    from devices.camera.opencv.config import OpencvCameraConfig
    from kiosk.config.devices import with_configs

    camera = OpencvCameraConfig(source=str(view.path))
    devices = with_configs(profile.devices, {"camera": (camera,)})
    return profile.model_copy(update={"devices": devices})


def put_photos_on_file(access: Reachable, numbers: Iterable[str]) -> int:
    """The demo citizens' photo on file at the (reference) back office; how many it took."""
    photo = base64.b64encode(photo_on_file()).decode()
    taken = 0
    for number in numbers:
        try:
            answer = requests.post(access.url + "/v1/photos-on-file", timeout=30,
                                   headers=access.headers,
                                   json={"document_number": number, "photo_b64": photo})
        except requests.RequestException as e:
            log.warning("the back office took no photo on file: %s", type(e).__name__)
            break
        taken += answer.status_code == 200
    if taken == 0:
        log.warning("no photo on file at %s: face checks will not match", access.url)
    return taken
