"""The machine's half that takes step results: what identification leads to (a query, a
locker door, the form), and what a read document, a face, a print, a locker door or the back
office's answer changes. Called by `Session` (machine.py) with itself;
together they are the only place that changes state. The steps themselves (steps/) never do."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.id_reader.protocol import ReadFailure
from devices.id_reader.validity import refusal
from devices.locker.protocol import DoorOutcome, DoorState
from kiosk.config.catalogue import Intent, Service
from kiosk.records.submission import citizen_hash, queue_event
from kiosk.session.steps import handover, identify
from kiosk.session.steps.query import query_applications
from kiosk.session.view import ApplicationSummary, Notice, Outcome, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session

log = logging.getLogger(__name__)


def queue_event_safely(s: Session, kind: str, body: Mapping[str, object]) -> bool:
    """A terminal event to the outbox; a failure is logged and never traps the session."""
    try:
        queue_event(s.d.sink, kind, {"terminal_id": s.d.terminal_id,
                                        "at": s.d.clock.wall(), **body})
    except Exception:
        log.exception("could not queue %s", kind)
        return False
    s.d.on_submitted()
    return True


def after_identified(s: Session) -> None:
    service, identity = s.service, s.identity
    assert service is not None and identity is not None
    who = citizen_hash(identity.id_number)
    if service.intent is Intent.QUERY:
        s.notice = Notice("querying")  # the back office may take seconds: say so
        directory = s.d.directory
        s._begin("query", lambda: query_applications(directory, who),
                 lambda apps: on_applications(s, apps),
                 limit_s=s.d.timings.backoffice_timeout_s, late=None)
    elif service.intent is Intent.COLLECT:
        items = s.d.inventory.for_citizen(who)
        locker = s.d.devices.locker
        if not items or locker is None:
            s.outcome = Outcome("locker", nothing_to_collect=not items)
            s.go(State.DONE, None if not items else Notice("door_failed"))
            return
        door, limit = items[0].door, s.d.timings.device_call_timeout_s
        s.outcome = Outcome("locker", door=door)
        s.go(State.HANDOVER)
        s._begin("open door", lambda: handover.open_door(locker, door, limit),
                 lambda r: on_door_opened(s, door, r), limit_s=limit,
                 late=handover.DoorOpened(DoorOutcome.FAULT, late=True))
    else:
        s.go(State.FILL if service.fields else State.CONFIRM)


def start_print(s: Session, service: Service, tracking_no: str) -> None:
    s.go(State.HANDOVER)
    receipt = handover.receipt_for(
        service, tracking_no, lang=s.language, wall=s.d.clock.wall(),
        terminal_id=s.d.terminal_id, offline=s.d.online() is False,
        qr_prefix=s.d.receipt_qr_prefix)
    printer, limit = s.d.devices.printer, s.d.timings.print_timeout_s
    # The limit covers the print and the status refresh that follows it.
    s._begin("print", lambda: handover.print_receipt(printer, receipt, limit),
             lambda r: on_printed(s, service, r),
             limit_s=limit + s.d.timings.device_call_timeout_s,
             late=handover.Printed(False, "timeout"))


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
        queue_event_safely(s, "locker.door_left_open", {"door": door})
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
        today = dt.date.fromtimestamp(s.d.clock.wall())
        refused = refusal(result.identity, today)
        if refused is not None:  # an expired or invalid document is refused, and said why
            s.notice = Notice(f"id_{refused.value}")
            s.d.audit.record("identity_read_failed", failure=refused.value)
            return
        s.identity = result.identity
        s.d.audit.record("identity_read", kind=result.identity.kind.value)
        if s.service and s.service.face_check and s.d.devices.camera is not None:
            s.go(State.VERIFY)
        else:
            after_identified(s)
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
        after_identified(s)
    elif check.outcome is FaceOutcome.FAULT:
        s.notice = Notice("camera_fault")
    elif s.d.clock.now() - s.entered_at > s.scaled(s.d.timings.face_wait_s):
        s.notice = Notice("face_wait_long")
    elif check.guidance:
        s.notice = Notice(f"face_{check.guidance}")  # come closer, look at the screen, ...


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
    queue_event_safely(s, "locker.collected", {"door": door})
    s.go(State.DONE)
