"""Staff assisting inside a citizen's session, after the citizen called for help: the
screen says who is assisting; staff may vouch for the citizen's identity where the terminal
could not (a face check that gave up, or a citizen who declined it: staff compare the document
with the person by sight) and the session goes on as after a face check; every such act is
audited with the staff number and role. The privacy wipe at the session's end runs as ever
and ends the assistance with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.session.view import State
from kiosk.session.visit import _session

if TYPE_CHECKING:
    from kiosk.session.machine import Session

VOUCHED = "staff_verified"  # the application's face check, when staff vouched by sight


def may_assist(s: Session) -> bool:
    """A citizen's session in which the citizen called for help."""
    return s.staff_called and s.state not in (State.ATTRACT, State.OUT_OF_SERVICE,
                                              State.RATE, State.GOODBYE)


def begin(s: Session, staff_id: str, role: str) -> bool:
    if not may_assist(s) or s.assisted_by == staff_id:
        return False
    s.assisted_by = staff_id
    s.d.audit.record("staff_assisting", staff_id=staff_id, role=role, screen=s.state.value)
    return True


def end(s: Session) -> None:
    s.assisted_by = ""


def needs_vouching(s: Session) -> bool:
    """Whether staff can vouch for the citizen's identity now."""
    declined = s.state is State.CONSENT and s.face_declined
    return s.identity is not None and (declined or (s.state is State.VERIFY and s.face_gave_up))


def has_expired_document(s: Session) -> bool:
    return s.state is State.IDENTIFY and s.expired_identity is not None and s.identity is None


def accept_expired(s: Session, staff_id: str, role: str) -> bool:
    """Staff judged the expired document good enough for this service (e.g. a renewal under
    way): the session goes on with it, to the face check as for any document."""
    from kiosk.session.visit import to_face_check

    if not s.assisted_by or s.assisted_by != staff_id or not has_expired_document(s):
        return False
    s.identity, s.expired_identity = s.expired_identity, None
    s.notice = None
    s.d.audit.record("expired_document_accepted_by_staff", staff_id=staff_id, role=role)
    assert s.service is not None
    if s.service.face_check and s.d.devices.camera is not None:
        to_face_check(s)
    else:
        from kiosk.session.results import after_identified

        after_identified(s)
    return True


def to_counter(s: Session, staff_id: str, role: str) -> bool:
    """Staff take the citizen to a staffed counter: the session ends (and is wiped)."""
    if not s.assisted_by or s.assisted_by != staff_id or not may_assist(s):
        return False
    s.d.audit.record("citizen_sent_to_counter", staff_id=staff_id, role=role,
                     screen=s.state.value)
    s.end("to_counter")
    return True


def vouch(s: Session, staff_id: str, role: str) -> bool:
    """Staff compared the document with the citizen by sight and confirm it is them."""
    from kiosk.session.results import after_identified

    if not s.assisted_by or s.assisted_by != staff_id or not needs_vouching(s):
        return False
    s.d.audit.record("identity_vouched_by_staff", staff_id=staff_id, role=role,
                     screen=s.state.value)
    s.face_frame, s.face_gave_up, s.face_check = None, False, VOUCHED
    s.notice = None
    after_identified(s)  # as after a face check: the form, the confirmation, ...
    return True


class StaffSteps:
    """The session's side of assisting staff (mixed into Session): each under its lock."""

    def staff_assisting(self, staff_id: str, role: str) -> bool:
        """Staff signed in on this screen after the citizen called for help (the screen
        says so); False when there is no citizen's call to answer."""
        s = _session(self)
        with s._lock:
            began = begin(s, staff_id, role)
            if began:
                s._activity()  # staff are here: the citizen's session does not time out
                s._publish()
            return began

    def staff_present(self) -> None:
        """Assisting staff touched the screen: the citizen's session is in use."""
        s = _session(self)
        with s._lock:
            if s.assisted_by:
                s._activity()

    def staff_vouch(self, staff_id: str, role: str) -> bool:
        """The assisting staff compared the document with the citizen by sight."""
        return _decide(_session(self), vouch, staff_id, role)

    def staff_accept_expired(self, staff_id: str, role: str) -> bool:
        """The assisting staff let the citizen go on with an expired document."""
        return _decide(_session(self), accept_expired, staff_id, role)

    def staff_to_counter(self, staff_id: str, role: str) -> bool:
        """The assisting staff take the citizen to a staffed counter: the session ends."""
        s = _session(self)
        with s._lock:
            done = to_counter(s, staff_id, role)
            s._publish()
        return done

    def staff_left(self) -> None:
        s = _session(self)
        with s._lock:
            end(s)
            s._publish()


def _decide(s: Session, rule: Callable[[Session, str, str], bool], staff_id: str,
            role: str) -> bool:
    """A staff decision under the lock (activity: someone is at the screen); the steps it
    started run once the lock is released."""
    with s._lock:
        s._activity()
        done = rule(s, staff_id, role)
        s._publish()
    s._launch_steps()
    return done
