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
    min_face_share: float = Field(default=0.18, gt=0, le=1)
    """The face check takes a frame only when the face is at least this share of its height."""
    max_face_offset: float = Field(default=0.22, ge=0, le=0.5)
    """... and its centre at most this share of the frame away from the frame's centre."""
    min_sharpness: float = Field(default=60.0, ge=0)
    """... and it is this sharp (variance of the Laplacian inside the face)."""
