"""The machine's half that takes step results: what a read document, a face, a print, a
locker door or the back office's answer changes. Called by `Session` (machine.py) with itself;
together they are the only place that changes state. The steps themselves (steps/) never do."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.id_reader.gb11643 import is_valid
from devices.id_reader.protocol import DocumentKind, ReadFailure
from devices.locker.protocol import DoorOutcome, DoorState
from kiosk.config.catalogue import Service
from kiosk.session.steps import handover, identify
from kiosk.session.view import ApplicationSummary, Notice, Outcome, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session


def watch_for_forgotten_card(s: Session) -> None:
    readers, limit = s.d.devices.id_readers, s.d.timings.device_call_timeout_s
    if readers and not s._steps.busy:
        s._begin("card left", lambda: identify.card_left(readers, limit),
                 lambda present: on_card_left(s, present), limit_s=limit, late=False)


def watch_door(s: Session, now: float) -> None:
    """Wait for the door to close. A door left open (or a board that stops answering) past
    the limit alerts staff and ends the session: one collection never holds the terminal."""
    assert s.outcome is not None and s.outcome.door is not None
    door = s.outcome.door
    if now - s.entered_at > s.d.timings.door_close_wait_s:
        s.d.audit.record("locker_door_left_open", door=door)
        s.queue_event_safely("locker.door_left_open", {"door": door})
        s.end("door_left_open")
        return
    locker, limit = s.d.devices.locker, s.d.timings.device_call_timeout_s
    s._begin("door", lambda: handover.door_state(locker, door, limit),
             lambda sensors: on_door_state(s, door, sensors), limit_s=limit, late=None)


def on_document(s: Session, read: identify.SourceRead | None) -> None:
    if read is None:  # the readers gave no answer at all: try again next tick
        return
    result = read.result
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
    elif result.failure not in (None, ReadFailure.NO_CARD):
        assert result.failure is not None
        notice = Notice(f"id_{result.failure.value}")
        if s.notice != notice:
            s.d.audit.record("identity_read_failed",
                             failure=read.problem or result.failure.value)
        s.notice = notice
    elif s.d.clock.now() - s.entered_at > s.scaled(s.d.timings.identify_wait_s):
        s.notice = Notice("id_wait_long")


def on_face(s: Session, check: FaceCheck) -> None:
    if check.outcome is FaceOutcome.CAPTURED:
        s.face_frame = check.best_frame
        s.after_identified()
    elif check.outcome is FaceOutcome.FAULT:
        s.notice = Notice("camera_fault")
    elif s.d.clock.now() - s.entered_at > s.scaled(s.d.timings.face_wait_s):
        s.notice = Notice("face_wait_long")


def on_card_left(s: Session, present: bool) -> None:
    if s.state is State.GOODBYE:
        s.card_was_left = present


def on_applications(s: Session, apps: tuple[ApplicationSummary, ...] | None) -> None:
    s.outcome = Outcome("screen", applications=apps)
    s.go(State.DONE)


def on_printed(s: Session, service: Service, printed: handover.Printed) -> None:
    if printed.ok:
        s.d.audit.record("receipt_printed", service=service.id)
    else:
        s.d.audit.record("receipt_print_failed", failure=printed.failure)
    assert s.outcome is not None
    s.outcome = replace(s.outcome, printed=printed.ok)
    s.go(State.DONE, None if printed.ok else Notice("print_failed"))


def on_door_opened(s: Session, door: int, opened: handover.DoorOpened) -> None:
    if opened.late:
        # The board may still open the door: watch it as if open (the door watch tells
        # whether the certificate was taken, and alerts staff if the door stays open).
        s.d.audit.record("locker_door_failed", door=door, outcome="timeout")
        s.outcome = Outcome("locker", door=door, door_open=True)
    elif opened.outcome is DoorOutcome.OPENED:
        s.d.audit.record("locker_door_opened", door=door)
        s.outcome = Outcome("locker", door=door, door_open=True,
                            door_count=opened.door_count)
    else:
        s.d.audit.record("locker_door_failed", door=door, outcome=opened.outcome.value)
        s.outcome = Outcome("locker", door=door, door_open=False)
        s.go(State.DONE, Notice("door_failed"))


def on_door_state(s: Session, door: int, sensors: DoorState | None) -> None:
    if sensors is None or sensors.is_open:
        return
    s.outcome = Outcome("locker", door=door, door_open=False)
    if sensors.item_present:
        s.go(State.DONE, Notice("item_not_taken"))
        return
    s.d.inventory.collected(door)
    s.d.audit.record("locker_item_collected", door=door)
    s.queue_event_safely("locker.collected", {"door": door})
    s.go(State.DONE)
