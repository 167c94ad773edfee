"""What the session waits for on each tick: a card, a face, a locker door, the clock.

Every device call goes through a `BoundedCall`, so a hung or failing driver becomes a notice
and a time limit, never a frozen session.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.id_reader.gb11643 import is_valid
from devices.id_reader.protocol import DocumentKind, ReadFailure, ReadResult
from kiosk.session.view import Notice, Outcome, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session
    from kiosk.session.ports import SessionDeps


def maintenance_until(d: SessionDeps) -> str | None:
    """The end of the maintenance window ("03:20") while inside it, else None."""
    if d.maintenance is None:
        return None
    t = time.localtime(d.clock.wall())
    minute, (start, end) = t.tm_hour * 60 + t.tm_min, d.maintenance
    inside = start <= minute < end if start <= end else (minute >= start or minute < end)
    return f"{end // 60:02d}:{end % 60:02d}" if inside else None


def poll_identity(s: Session, now: float) -> None:
    reader = s.d.devices.id_reader
    if reader is None:
        return
    called = s.call("id_reader.read", reader.read, ReadResult(failure=ReadFailure.DEVICE_FAULT))
    result = called.value
    if result.identity is not None:
        if result.identity.kind is DocumentKind.RESIDENT_ID and not is_valid(
                result.identity.id_number):
            s.notice = Notice("id_invalid")
            s.d.audit.record("identity_read_failed", failure="invalid_number")
            return
        s.identity = result.identity
        s.d.audit.record("identity_read", kind=result.identity.kind.value)
        if s.service and s.service.face_check and s.d.devices.camera is not None:
            s.go(State.VERIFY)
        else:
            s.after_identified()
        return
    if result.failure not in (None, ReadFailure.NO_CARD):
        assert result.failure is not None
        if s.notice != Notice(f"id_{result.failure.value}"):
            s.d.audit.record("identity_read_failed", failure=called.problem or
                             result.failure.value)
        s.notice = Notice(f"id_{result.failure.value}")
    elif now - s.entered_at > s.scaled(s.d.timings.identify_wait_s):
        s.notice = Notice("id_wait_long")


def poll_face(s: Session, now: float) -> None:
    camera = s.d.devices.camera
    if camera is None:
        s.after_identified()
        return
    check = s.call("camera.check_face", camera.check_face, FaceCheck(FaceOutcome.FAULT)).value
    if check.outcome is FaceOutcome.CAPTURED:
        s.face_frame = check.best_frame
        s.after_identified()
    elif check.outcome is FaceOutcome.FAULT:
        s.notice = Notice("camera_fault")
    elif now - s.entered_at > s.scaled(s.d.timings.face_wait_s):
        s.notice = Notice("face_wait_long")


def poll_door(s: Session, now: float) -> None:
    """Wait for the door to close; then say whether the certificate was taken. A door left
    open (or a board that stops answering) past the limit alerts staff and ends the session,
    so the terminal is never held by one collection."""
    locker, outcome = s.d.devices.locker, s.outcome
    assert outcome is not None and outcome.door is not None
    door = outcome.door
    sensors = s.call("locker.door_state", lambda: locker.door_state(door), None).value \
        if locker else None
    if sensors is not None and not sensors.is_open:
        s.outcome = Outcome("locker", door=door, door_open=False)
        if sensors.item_present:
            s.go(State.DONE, Notice("item_not_taken"))
            return
        s.d.inventory.collected(door)
        s.d.audit.record("locker_item_collected", door=door)
        s.queue_event_safely("locker.collected", {"door": door})
        s.go(State.DONE)
    elif now - s.entered_at > s.d.timings.door_close_wait_s:
        s.d.audit.record("locker_door_left_open", door=door)
        s.queue_event_safely("locker.door_left_open", {"door": door})
        s.end("door_left_open")

