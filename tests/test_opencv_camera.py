"""The OpenCV camera adapter on image and video files standing in for a camera: the face
check's gate (one face, large enough, centred, sharp) with its guidance, and QR codes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from devices.camera.opencv.camera import OpencvCamera
from devices.camera.opencv.frames import FrameSource
from devices.camera.protocol import FaceOutcome
from devices.status import DeviceState, LinkReason
from kiosk.demo.faces import qr_scene

FACE = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)  # 512x512, one face near the top


def camera_on(tmp_path: Path, frame: np.ndarray, name: str = "frame.png") -> OpencvCamera:
    path = tmp_path / name
    cv2.imwrite(str(path), frame)
    return OpencvCamera(FrameSource(str(path)))


def centred_face() -> np.ndarray:
    """The astronaut's face moved to the middle of the frame."""
    canvas = np.full((512, 512, 3), 128, dtype=np.uint8)
    canvas[120:420, 80:432] = FACE[0:300, 60:412]
    return canvas


def test_one_sharp_centred_face_is_captured_as_a_jpeg(tmp_path: Path) -> None:
    check = camera_on(tmp_path, centred_face()).check_face()
    assert check.outcome is FaceOutcome.CAPTURED
    assert check.best_frame is not None and check.best_frame[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(("frame", "guidance"), [
    (np.full((512, 512, 3), 128, dtype=np.uint8), "look_at_screen"),
    (np.pad(centred_face(), ((194, 194), (194, 194), (0, 0)), constant_values=128),
     "come_closer"),  # the same face, seen from twice as far
    (np.hstack([centred_face(), centred_face()]), "one_person"),
    (np.pad(centred_face(), ((0, 0), (0, 700), (0, 0)), constant_values=128), "move_to_centre"),
    (cv2.GaussianBlur(centred_face(), (0, 0), 4), "hold_still"),
])
def test_each_unusable_frame_says_what_to_do(tmp_path: Path, frame: np.ndarray,
                                             guidance: str) -> None:
    check = camera_on(tmp_path, frame).check_face()
    assert (check.outcome, check.guidance) == (FaceOutcome.PENDING, guidance)
    assert check.best_frame is None


def test_a_qr_code_in_view_is_read(tmp_path: Path) -> None:
    assert camera_on(tmp_path, qr_scene("KQ1.abc.def")).scan_qr() == "KQ1.abc.def"
    assert camera_on(tmp_path, centred_face(), "face.png").scan_qr() is None


def test_a_video_file_stands_in_for_a_camera_and_loops(tmp_path: Path) -> None:
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 720))
    for _ in range(3):
        writer.write(qr_scene("KQ1.video.frame"))
    writer.release()
    camera = OpencvCamera(FrameSource(str(path)))
    assert camera.status().state is DeviceState.READY
    assert [camera.scan_qr() for _ in range(5)] == ["KQ1.video.frame"] * 5  # past its end


def test_a_camera_that_is_not_there_is_not_connected() -> None:
    status = OpencvCamera(FrameSource("/dev/video9")).status()
    assert status.state is DeviceState.OFFLINE and status.reason == LinkReason.NOT_CONNECTED
    assert OpencvCamera(FrameSource("/dev/video9")).check_face().outcome is FaceOutcome.FAULT


def test_a_camera_that_disappears_and_comes_back_is_reopened(tmp_path: Path) -> None:
    video = tmp_path / "camera.avi"
    camera = OpencvCamera(FrameSource(str(video)))
    assert camera.status().state is DeviceState.OFFLINE  # not there (yet)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 720))
    for _ in range(3):
        writer.write(qr_scene("KQ1.back.again"))
    writer.release()
    assert camera.status().state is DeviceState.READY  # opened on the next ask
    assert camera.scan_qr() == "KQ1.back.again"
    still = tmp_path / "view.png"
    cv2.imwrite(str(still), centred_face())
    view = OpencvCamera(FrameSource(str(still)))
    assert view.check_face().outcome is FaceOutcome.CAPTURED
    still.unlink()
    gone = view.status()
    assert (gone.state, gone.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
    assert view.check_face().outcome is FaceOutcome.FAULT
    cv2.imwrite(str(still), centred_face())
    assert view.status().state is DeviceState.READY
    assert view.check_face().outcome is FaceOutcome.CAPTURED
