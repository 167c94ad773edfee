"""Settings of the OpenCV camera (`opencv`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import AdapterConfig


class OpencvCameraConfig(AdapterConfig):
    adapter: Literal["opencv"] = "opencv"
    """A V4L2 camera (or a video file standing in for one) read through OpenCV."""
    source: str = "0"
    """Camera index (0 = /dev/video0), a device path, or a video file."""
    width: int = Field(default=1280, gt=0)
    """Frame width asked of the camera."""
    height: int = Field(default=720, gt=0)
    """Frame height asked of the camera."""
