"""Every way identification can go wrong has a defined state and a message in zh and en, one
test each, named after it (the readers' own protocol tests prove the failures are detected;
here the session and the screen's words take them)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from devices.camera.protocol import FaceOutcome
from devices.id_reader.protocol import Identity, ReadFailure
from devices.status import DeviceStatus
from kiosk.session import State
from kiosk.session.ports import FaceAnswer
from screens.i18n import catalogue
from tests.flows import identify, to_identify_household_proof


def says(rig: Any, state: State, key: str) -> None:
    s = rig.session
    assert s.state is state and s.notice is not None, (s.state, s.notice)
    assert s.notice.key == key
    for lang in ("zh", "en"):
        assert catalogue(lang).get(f"notice.{key}"), f"no {lang} words for {key}"


def read_fails(rig: Any, failure: ReadFailure) -> None:
    to_identify_household_proof(rig)
    rig.reader.fail_next(failure)
    rig.tick()


def test_card_pulled_mid_read(rig: Any, citizen: Identity) -> None:
    read_fails(rig, ReadFailure.CARD_PULLED)
    says(rig, State.IDENTIFY, "id_card_pulled")
    rig.reader.present(citizen)  # placed again: read, and on to the face
    rig.tick()
    assert rig.session.state is State.VERIFY


def test_wrong_card(rig: Any) -> None:
    read_fails(rig, ReadFailure.WRONG_CARD)
    says(rig, State.IDENTIFY, "id_wrong_card")


def test_unreadable_card(rig: Any) -> None:
    read_fails(rig, ReadFailure.UNREADABLE)
    says(rig, State.IDENTIFY, "id_unreadable")


def test_expired_document(rig: Any, citizen: Identity) -> None:
    to_identify_household_proof(rig)
    rig.reader.present(replace(citizen, valid_to="20200101"))
    rig.tick()
    says(rig, State.IDENTIFY, "id_expired")
    assert rig.session.identity is None


def test_invalid_id_number(rig: Any, citizen: Identity) -> None:
    to_identify_household_proof(rig)
    number = citizen.id_number
    wrong_digit = "0" if number[-1] != "0" else "1"
    rig.reader.present(replace(citizen, id_number=number[:-1] + wrong_digit))
    rig.tick()
    says(rig, State.IDENTIFY, "id_invalid_number")
    assert rig.session.identity is None


def test_passport_needs_its_details(rig: Any) -> None:
    read_fails(rig, ReadFailure.ACCESS_KEY_NEEDED)
    says(rig, State.IDENTIFY, "id_access_key_needed")
    assert rig.session.view().passport_details


def test_passport_details_refused_by_the_chip(rig: Any) -> None:
    read_fails(rig, ReadFailure.ACCESS_DENIED)
    says(rig, State.IDENTIFY, "id_access_denied")
    assert rig.session.view().passport_details


def test_expired_qr_code(rig: Any) -> None:
    read_fails(rig, ReadFailure.QR_EXPIRED)
    says(rig, State.IDENTIFY, "id_qr_expired")


def test_forged_or_replayed_qr_code(rig: Any) -> None:
    read_fails(rig, ReadFailure.QR_INVALID)
    says(rig, State.IDENTIFY, "id_qr_invalid")


def test_card_reader_fault(rig: Any) -> None:
    read_fails(rig, ReadFailure.DEVICE_FAULT)
    says(rig, State.IDENTIFY, "id_device_fault")


def test_camera_fault(rig: Any, citizen: Identity) -> None:
    to_identify_household_proof(rig)
    rig.reader.present(citizen)
    rig.tick()
    rig.camera.set_status(DeviceStatus.fault("camera_gone", "no frames"))
    rig.tick()
    says(rig, State.VERIFY, "camera_fault")


def test_failed_face_check(rig: Any, citizen: Identity) -> None:
    rig.faces.answer = FaceAnswer("no_match", 0.8)
    to_identify_household_proof(rig)
    identify(rig, citizen)
    for _ in range(rig.session.d.timings.face_attempts - 1):
        says(rig, State.VERIFY, "face_try_again")
        rig.camera.show_face(FaceOutcome.CAPTURED)
        rig.tick()
    says(rig, State.VERIFY, "face_not_matched")


def test_face_with_nothing_to_compare_with(rig: Any, citizen: Identity) -> None:
    rig.faces.answer = FaceAnswer("no_reference")
    to_identify_household_proof(rig)
    identify(rig, citizen)
    says(rig, State.VERIFY, "face_no_reference")


def test_no_document_for_a_long_time(rig: Any) -> None:
    to_identify_household_proof(rig)
    rig.tick(rig.session.d.timings.identify_wait_s + 1)
    rig.tick()
    says(rig, State.IDENTIFY, "id_wait_long")
