"""The face check in a session, each outcome named: a match goes on, a face that does not match
is looked at again a limited number of times and then the citizen is asked to call staff, a
document with nothing to compare with goes to staff, and an unreachable back office defers the
check with the application (never for a locker door). The back office's answers come from a
stand-in here; the real verification has its own tests (test_face_verification.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

from devices.camera.protocol import FaceOutcome
from devices.id_reader.protocol import Identity, Photo
from kiosk.config.catalogue import Intent
from kiosk.session import State
from kiosk.session.ports import FaceAnswer
from tests.flows import RECEIPT_SERVICE, identify, load_item, to_identify_household_proof


def face_records(rig: Any) -> list[dict[str, Any]]:
    return [json.loads(p).get("face") for kind, p, _ in rig.sink.envelopes
            if kind == "application.submit"]


def audit_kinds(rig: Any) -> list[str]:
    return [e["event"] for e in rig.audit.recent]


def test_a_face_that_matches_goes_on_and_the_application_says_so(rig: Any,
                                                                  citizen: Identity) -> None:
    s = to_identify_household_proof(rig, RECEIPT_SERVICE)
    identify(rig, citizen)
    assert s.state is State.CONFIRM
    assert rig.faces.asked == [(citizen.id_number, False)]  # a SAM card's WLT photo stays home
    s.confirm()
    assert face_records(rig) == [{"check": "matched"}]
    assert "face_matched" in audit_kinds(rig)


def test_a_face_that_does_not_match_is_looked_at_again(rig: Any, citizen: Identity) -> None:
    rig.faces.answer = FaceAnswer("no_match", 0.7)
    s = to_identify_household_proof(rig)
    identify(rig, citizen)
    assert (s.state, s.notice.key) == (State.VERIFY, "face_try_again")
    assert s.face_frame is None  # the frame that did not match is gone
    rig.faces.answer = FaceAnswer("match", 0.3)
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    assert s.state is State.CONFIRM


def test_after_the_last_failed_face_check_the_citizen_is_asked_to_call_staff(
        rig: Any, citizen: Identity) -> None:
    rig.faces.answer = FaceAnswer("no_match", 0.7)
    s = to_identify_household_proof(rig)
    identify(rig, citizen)
    for _ in range(rig.session.d.timings.face_attempts - 1):
        rig.camera.show_face(FaceOutcome.CAPTURED)
        rig.tick()
    assert (s.state, s.notice.key) == (State.VERIFY, "face_not_matched")
    asked = len(rig.faces.asked)
    assert asked == s.d.timings.face_attempts
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick(1)
    assert len(rig.faces.asked) == asked  # no more checks: staff must look
    assert audit_kinds(rig).count("face_not_matched") == asked
    assert "face_check_failed" in audit_kinds(rig)
    s.call_staff()
    assert s.staff_called and s.state is State.VERIFY
    s.back()  # the citizen can still leave, and nothing of theirs stays
    s.go_home()
    s.back()
    assert s.identity is None and s.face_frame is None


def test_a_document_with_no_photo_to_compare_goes_to_staff(rig: Any, citizen: Identity) -> None:
    rig.faces.answer = FaceAnswer("no_reference")
    s = to_identify_household_proof(rig)
    identify(rig, citizen)
    assert (s.state, s.notice.key) == (State.VERIFY, "face_no_reference")
    assert s.face_gave_up


def test_a_passport_photo_is_sent_for_the_comparison(rig: Any, citizen: Identity) -> None:
    from dataclasses import replace

    passport = replace(citizen, photo=Photo(b"\xff\xd8passport-dg2", "jpeg"))
    to_identify_household_proof(rig)
    identify(rig, passport)
    assert rig.faces.asked == [(citizen.id_number, True)]


def test_an_unreachable_back_office_defers_the_check_with_the_application(
        rig: Any, citizen: Identity) -> None:
    rig.faces.answer = None
    s = to_identify_household_proof(rig, RECEIPT_SERVICE)
    identify(rig, citizen)
    assert s.state is State.CONFIRM
    s.confirm()
    (face,) = face_records(rig)
    assert face["check"] == "deferred"
    assert base64.b64decode(face["live_frame_b64"]) == b"\xff\xd8fake-jpeg"
    assert "face_check_deferred" in audit_kinds(rig)
    s.finish()
    assert s.face_frame is None  # the frame left memory with the session


def test_a_certificate_is_never_issued_on_a_deferred_face_check(rig: Any,
                                                                 citizen: Identity) -> None:
    rig.faces.answer = None  # the back office cannot check the face now
    s = to_identify_household_proof(rig)
    identify(rig, citizen)
    assert (s.state, s.notice.key) == (State.VERIFY, "face_check_unavailable")
    assert rig.certificates.issued == {} and rig.certificate_printer.printed == []


def test_an_unreachable_back_office_never_opens_a_locker_door(rig: Any,
                                                              citizen: Identity) -> None:
    load_item(rig, 7, citizen, "营业执照", "Licence")
    rig.locker.load(7)
    rig.faces.answer = None
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert (s.state, s.notice.key) == (State.VERIFY, "face_check_unavailable")
    assert rig.locker.opened == []
    assert s.outcome is None
