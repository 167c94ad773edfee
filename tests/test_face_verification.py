"""Face verification at the reference back office, over loopback HTTP, with dlib's real model:
the same person matches, another person does not, and every kind of bad input gets a clear
answer. Faces: skimage's astronaut (the demo citizen) and matplotlib's Grace Hopper."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import matplotlib
import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from backoffice.faces import FaceSettings
from backoffice.server import DB_FILE
from devices.camera.opencv.face import DEFAULT_GATE, assess
from devices.camera.protocol import FaceOutcome
from kiosk.demo.faces import camera_scene, photo_on_file

pytestmark = pytest.mark.realstack

DOC = "110101199003077777"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def jpeg(frame: Any) -> bytes:
    return bytes(cv2.imencode(".jpg", frame)[1])


@pytest.fixture(scope="module")
def live_frame() -> bytes:
    """The terminal's best frame of the astronaut, taken by the camera adapter's own gate."""
    check = assess(camera_scene(face=True), DEFAULT_GATE)
    assert check.outcome is FaceOutcome.CAPTURED and check.best_frame is not None
    return check.best_frame


@pytest.fixture(scope="module")
def another_person() -> bytes:
    return (Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").read_bytes()


def start(tmp_path: Path, **settings: Any) -> RunningBackOffice:
    return start_in_thread("127.0.0.1", 0, tmp_path, faces=FaceSettings(**settings))


@pytest.fixture
def bo(tmp_path: Path) -> Iterator[RunningBackOffice]:
    running = start(tmp_path)
    yield running
    running.stop()


def verify(bo: RunningBackOffice, live: bytes, photo: bytes | None = None,
           number: str = DOC, headers: dict[str, str] | None = None) -> requests.Response:
    body: dict[str, Any] = {"document_number": number, "live_frame_b64": b64(live)}
    if photo is not None:
        body["document_photo_b64"] = b64(photo)
    return requests.post(bo.url + "/v1/face-verifications", json=body, timeout=30,
                         headers=bo.headers if headers is None else headers)


def put_on_file(bo: RunningBackOffice, photo: bytes, number: str = DOC) -> None:
    answer = requests.post(bo.url + "/v1/photos-on-file", timeout=10,
                           json={"document_number": number, "photo_b64": b64(photo)},
                               headers=bo.headers)
    assert answer.status_code == 200, answer.text


def test_the_same_person_matches_the_photo_on_file(bo: RunningBackOffice,
                                                   live_frame: bytes) -> None:
    put_on_file(bo, photo_on_file())
    answer = verify(bo, live_frame)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["decision"] == "match"
    assert doc["distance"] < doc["threshold"] == 0.55


def test_another_person_does_not_match(bo: RunningBackOffice, live_frame: bytes,
                                       another_person: bytes) -> None:
    put_on_file(bo, another_person)
    doc = verify(bo, live_frame).json()
    assert doc["decision"] == "no_match"
    assert doc["distance"] > doc["threshold"]


def test_a_document_photo_sent_is_used_before_the_one_on_file(
        bo: RunningBackOffice, live_frame: bytes, another_person: bytes) -> None:
    put_on_file(bo, photo_on_file())
    assert verify(bo, live_frame, photo=another_person).json()["decision"] == "no_match"
    assert verify(bo, live_frame, photo=photo_on_file()).json()["decision"] == "match"


def test_the_threshold_is_configuration(tmp_path: Path, live_frame: bytes) -> None:
    strict = start(tmp_path, threshold=0.1)
    try:
        doc = verify(strict, live_frame, photo=photo_on_file()).json()
    finally:
        strict.stop()
    assert (doc["decision"], doc["threshold"]) == ("no_match", 0.1)
    assert 0.1 < doc["distance"] < 0.55  # a match at the default threshold


def test_a_frame_without_a_face_is_said_so(bo: RunningBackOffice) -> None:
    doc = verify(bo, jpeg(camera_scene(face=False)), photo=photo_on_file()).json()
    assert doc == {"decision": "no_face_in_frame", "distance": None, "threshold": 0.55}


def test_a_document_photo_without_a_face_is_said_so(bo: RunningBackOffice,
                                                    live_frame: bytes) -> None:
    doc = verify(bo, live_frame, photo=jpeg(camera_scene(face=False))).json()
    assert doc["decision"] == "no_face_on_document"


def test_no_photo_sent_and_none_on_file_is_no_reference(bo: RunningBackOffice,
                                                        live_frame: bytes) -> None:
    assert verify(bo, live_frame, number="E01234567").json()["decision"] == "no_reference"


@pytest.mark.parametrize(("body", "field"), [
    ({"document_number": DOC, "live_frame_b64": "not base64!"}, "live_frame_b64"),
    ({"document_number": DOC}, "live_frame_b64"),
    ({"document_number": "", "live_frame_b64": "AAAA"}, "document_number"),
    ({"document_number": DOC, "live_frame_b64": "AAAA", "document_photo_b64": 7},
     "document_photo_b64"),
])
def test_a_malformed_request_is_a_400_naming_the_field(bo: RunningBackOffice,
                                                       body: dict[str, Any], field: str) -> None:
    answer = requests.post(bo.url + "/v1/face-verifications", json=body, timeout=10,
                           headers=bo.headers)
    assert answer.status_code == 400
    assert field in answer.json()["error"]


def test_bytes_that_are_no_image_are_a_400(bo: RunningBackOffice) -> None:
    answer = verify(bo, b"\xff\xd8 this is not a jpeg", photo=photo_on_file())
    assert answer.status_code == 400
    assert "could not be decoded" in answer.json()["error"]


def test_verification_needs_the_token_when_the_back_office_has_one(tmp_path: Path,
                                                                    live_frame: bytes) -> None:
    guarded = start_in_thread("127.0.0.1", 0, tmp_path, token="s3cret")
    try:
        assert verify(guarded, live_frame, photo=photo_on_file(), headers={}).status_code == 401
        answer = requests.post(guarded.url + "/v1/photos-on-file", timeout=10,
                               json={"document_number": DOC, "photo_b64": b64(photo_on_file())})
        assert answer.status_code == 401
    finally:
        guarded.stop()


def test_a_deferred_check_is_made_on_receipt_and_no_photo_is_stored(
        bo: RunningBackOffice, live_frame: bytes, tmp_path: Path) -> None:
    put_on_file(bo, photo_on_file())
    application = {
        "tracking_no": "T-9", "service_id": "hukou-proof", "terminal_id": "kiosk-07",
        "citizen": {"id_number": DOC, "name": "Zhang San"}, "form": {},
        "submitted_at": 1_700_000_000.0,
        "face": {"check": "deferred", "live_frame_b64": b64(live_frame)},
    }
    envelope = {"idempotency_key": "k-9", "kind": "application.submit",
                "payload_b64": b64(json.dumps(application).encode())}
    answer = requests.post(bo.url + "/v1/envelopes", json={"envelopes": [envelope]}, timeout=30,
                           headers=bo.headers)
    assert answer.json()["results"][0]["status"] == "accepted"
    assert bo.store.application("T-9")["face_check"] == "match"
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        (sealed,) = db.execute("SELECT payload FROM envelopes").fetchone()
    stored = bo.secrets.fernet.decrypt(sealed.encode()).decode()
    assert json.loads(stored)["face"]["check"] == "match"
    assert b64(live_frame)[:200] not in stored and "live_frame_b64" not in stored
