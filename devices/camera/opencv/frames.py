"""Where frames come from: a V4L2 camera (an index or /dev/videoN), or a video or image file
standing in for one (tests, the demo). A camera that disappears is reopened on the next ask."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


class FrameSource:
    def __init__(self, source: str, width: int = 1280, height: int = 720) -> None:
        self.source = source
        self._size = (width, height)
        self._capture: Any = None
        self._still: Any = None  # an image file: its frame, read again when the file changes
        self._still_stamp: int | None = None

    @property
    def name(self) -> str:
        return self.source

    def _open(self) -> bool:
        """Open the camera or video (image files are read by _read_still)."""
        import cv2

        target: Any = int(self.source) if self.source.isdigit() else self.source
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            capture.release()
            return False
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
        self._capture = capture
        return True

    def _read_still(self, path: Path) -> Any | None:
        import cv2

        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            self._still = self._still_stamp = None
            return None
        if stamp != self._still_stamp:
            self._still, self._still_stamp = cv2.imread(str(path)), stamp
        return self._still

    def read(self) -> Any | None:
        """One BGR frame, or None when the camera gives none (it is then reopened next time)."""
        path = Path(self.source)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return self._read_still(path)
        if self._capture is None and not self._open():
            return None
        ok, frame = self._capture.read()
        if ok:
            return frame
        if not self.source.isdigit() and not self.source.startswith("/dev/"):
            # A video file standing in for a camera: it loops.
            import cv2

            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
            if ok:
                return frame
        log.warning("camera %s gave no frame; it will be reopened", self.source)
        self.close()
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
