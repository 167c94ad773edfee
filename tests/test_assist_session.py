"""Assisting staff inside the session: only after a call for help, only the one assisting;
an expired document let by (the visit goes on to the face check), the citizen taken to a
counter (the session ends and is wiped), a face check that gave up vouched for; each audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from devices.id_reader.protocol import Identity
from kiosk.session import State
from tests.flows import to_identify_household_proof


def expired(citizen: Identity) -> Identity:
    return replace(citizen, valid_to="20200101")


def events(rig: Any) -> list[str]:
    return [e["event"] for e in rig.audit.recent]


def test_an_expired_document_goes_on_only_when_assisting_staff_let_it(
        rig: Any, citizen: Identity) -> None:
    s = to_identify_household_proof(rig)
    rig.reader.present(expired(citizen))
    rig.tick()
    assert (s.state, s.notice.key) == (State.IDENTIFY, "id_expired")
    assert not s.view().staff_may_accept_expired
    assert not s.staff_accept_expired("H-01", "hall_staff")  # nobody assisting: refused
    assert not s.staff_assisting("H-01", "hall_staff")  # no call for help yet
    s.call_staff()
    assert s.staff_assisting("H-01", "hall_staff")
    assert s.view().assisted_by == "H-01" and s.view().staff_may_accept_expired
    assert not s.staff_accept_expired("H-02", "hall_staff")  # not the one assisting
    assert s.staff_accept_expired("H-01", "hall_staff")
    assert s.state in (State.CONSENT, State.VERIFY)  # the face check, as for any document
    assert s.identity is not None and s.identity.id_number == citizen.id_number
    assert "expired_document_accepted_by_staff" in events(rig)


def test_staff_take_the_citizen_to_a_counter_and_the_session_is_wiped(
        rig: Any, citizen: Identity) -> None:
    s = to_identify_household_proof(rig)
    rig.reader.present(expired(citizen))
    rig.tick()
    s.call_staff()
    s.staff_assisting("H-01", "hall_staff")
    assert s.staff_to_counter("H-01", "hall_staff")
    assert (s.state, s.notice.key) == (State.GOODBYE, "goodbye_to_counter")
    assert s.identity is None and s.expired_identity is None and s.assisted_by == ""
    assert "citizen_sent_to_counter" in events(rig)


def test_a_face_check_that_gave_up_is_vouched_for_by_the_assisting_staff(
        rig: Any, citizen: Identity) -> None:
    from devices.camera.protocol import FaceOutcome
    from kiosk.session.ports import FaceAnswer

    rig.faces.answer = FaceAnswer("no_reference", None)
    s = to_identify_household_proof(rig)
    rig.reader.present(citizen)
    rig.tick()
    if s.state is State.CONSENT:
        s.consent_face(True)
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    rig.tick()
    assert s.view().face_gave_up
    s.call_staff()
    s.staff_assisting("H-01", "hall_staff")
    assert s.view().staff_may_vouch
    assert s.staff_vouch("H-01", "hall_staff")
    assert s.state is State.CONFIRM and s.face_check == "staff_verified"
    assert "identity_vouched_by_staff" in events(rig)


def test_a_citizen_who_declined_the_face_check_then_called_is_vouched_for(
        rig: Any, citizen: Identity) -> None:
    rig.session.d.ask_face_consent = True
    s = to_identify_household_proof(rig)
    rig.reader.present(citizen)
    rig.tick()
    assert s.state is State.CONSENT
    s.consent_face(False)
    s.call_staff()  # the notice now says staff were called, not that the check was declined
    s.staff_assisting("H-01", "hall_staff")
    assert s.view().staff_may_vouch
    assert s.staff_vouch("H-01", "hall_staff") and s.state is State.CONFIRM


def test_each_call_for_help_is_its_own_even_in_the_same_visit(rig: Any) -> None:
    s = rig.session
    s.touch()
    s.call_staff()
    s.back()  # the visit ends: the wipe clears the call
    s.back()
    rig.tick(10)
    rig.tick(10)
    s.call_staff()  # from the goodbye or attract screen: someone else needs help
    keys = [k for kind, _, k in rig.sink.envelopes if kind == "staff.call"]
    assert len(keys) == 2 and len(set(keys)) == 2


def test_a_view_from_before_the_assistance_does_not_sign_the_staff_out() -> None:
    from kiosk.session import SessionView
    from screens.staff.mode import StaffMode

    class Desk:
        signed_out = 0

        def sign_out(self) -> None:
            Desk.signed_out += 1

    port = type("Port", (), {"staff": Desk(), "console": None, "session": None})()
    mode = StaffMode(shell=None, port=port)
    mode._assisting = True
    def view(state: State) -> SessionView:
        return SessionView(state=state, language="zh", elder=False, high_contrast=False,
                           offline=False)

    mode.on_view(view(State.IDENTIFY))  # published before it began, queued
    assert Desk.signed_out == 0 and mode._assisting
    mode.on_view(view(State.GOODBYE))  # the citizen's session is over
    assert Desk.signed_out == 1 and not mode._assisting
