"""The machine's half that takes step results: what identification leads to (a query, a
locker door, the form), and what a read document, a face, a print or the back office's answer
changes (a locker door's: collect.py; a certificate's: certify.py). Called by `Session`
(machine.py) with itself; together they are the only place that changes state. The steps
themselves (steps/) never do."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING

from devices.camera.protocol import FaceCheck, FaceOutcome
from devices.id_reader.pcsc.icao9303.mrz import MrzError, MrzKey
from devices.id_reader.protocol import ReadFailure
from devices.id_reader.validity import refusal
from kiosk.config.catalogue import Intent, Service
from kiosk.records.submission import queue_application
from kiosk.session import collect
from kiosk.session.events import queue_event_safely
from kiosk.session.ports import FaceAnswer
from kiosk.session.steps import handover, identify
from kiosk.session.steps.query import query_applications
from kiosk.session.view import ApplicationSummary, Notice, Outcome, State
from kiosk.session.visit import to_face_check

if TYPE_CHECKING:
    from kiosk.session.machine import Session

log = logging.getLogger(__name__)


def after_identified(s: Session) -> None:
    service, identity = s.service, s.identity
    assert service is not None and identity is not None
    who = s.d.citizen_key.citizen_hash(identity.id_number)
    if service.intent is Intent.QUERY:
        s.notice = Notice("querying")  # the back office may take seconds: say so
        directory = s.d.directory
        s._begin("query", lambda: query_applications(directory, who),
                 lambda apps: on_applications(s, apps),
                 limit_s=s.d.timings.backoffice_timeout_s, late=None)
    elif service.intent is Intent.COLLECT:
        collect.by_identity(s, identity.id_number)
    else:
        s.go(State.FILL if service.fields else State.CONFIRM)


def submit_application(s: Session) -> None:
    """From CONFIRM: the application into the outbox, durably, then its receipt printed."""
    service, identity = s.service, s.identity
    assert service is not None and identity is not None
    s.go(State.SUBMITTING)
    s._publish()
    try:
        queued = queue_application(
            s.d.sink, terminal_id=s.d.terminal_id, service_id=service.id, identity=identity,
            form=s.values, submitted_at=s.d.clock.wall(), face=face_record(s))
    except Exception as e:  # disk full, broken database: say so, keep the form
        log.exception("outbox enqueue failed")
        s.d.audit.record("application_queue_failed", service=service.id,
                         error=type(e).__name__)
        s.go(State.CONFIRM, Notice("submit_failed"))
        return
    s.d.audit.record("application_queued", service=service.id, tracking_no=queued.tracking_no)
    s.d.on_submitted()
    s.queued_key = queued.idempotency_key
    s.outcome = Outcome(service.output, tracking_no=queued.tracking_no,
                        delivered=s.d.delivered(queued.idempotency_key))
    if service.output == "receipt":
        start_print(s, service, queued.tracking_no)
    else:
        s.go(State.DONE)


def start_print(s: Session, service: Service, tracking_no: str) -> None:
    s.go(State.HANDOVER)
    receipt = handover.receipt_for(
        service, tracking_no, lang=s.language, wall=s.d.clock.wall(),
        terminal_id=s.d.terminal_id, offline=s.d.online() is False,
        qr_prefix=s.d.receipt_qr_prefix, logo=s.d.receipt_logo)
    printer, limit = s.d.devices.printer, s.d.timings.print_timeout_s
    try:
        job = s.d.journal.begin(tracking_no, s.d.clock.wall())  # the second one: the reprint
    except (sqlite3.Error, OSError):  # a full disk: no print the journal cannot account for
        log.exception("the print journal cannot be written; the receipt is not printed")
        on_printed(s, service, None, handover.Printed(False, "not_recorded"))
        return
    # The limit covers the print and the status refresh that follows it.
    s._begin("print", lambda: handover.print_receipt(printer, receipt, limit),
             lambda r: on_printed(s, service, job, r),
             limit_s=limit + s.d.timings.device_call_timeout_s,
             late=handover.Printed(False, "timeout"))


def leave_unprinted(s: Session) -> None:
    """The citizen leaves without the receipt or certificate that did not print: it is never
    printed for the next citizen, and staff are told its number (no personal data). The back
    office gives an unprinted certificate again on the citizen's next visit."""
    outcome = s.outcome
    if outcome is None or outcome.printed is not False:
        return
    try:
        _abandon(s, outcome)
    except (sqlite3.Error, OSError):  # a full disk: the session still ends, and is wiped
        log.exception("the print journal cannot be written; the job stays for the next start")


def _abandon(s: Session, outcome: Outcome) -> None:
    if outcome.serial_no:
        if s.d.journal.abandon(outcome.serial_no, s.d.clock.wall()):
            s.d.audit.record("certificate_abandoned", serial=outcome.serial_no)
            queue_event_safely(s, "staff.certificate_not_printed",
                               {"serial": outcome.serial_no, "tracking_no": outcome.tracking_no})
    elif outcome.tracking_no and s.d.journal.abandon(outcome.tracking_no, s.d.clock.wall()):
        s.d.audit.record("receipt_abandoned", tracking_no=outcome.tracking_no)
        queue_event_safely(s, "staff.receipt_not_printed", {"tracking_no": outcome.tracking_no})


def watch_for_forgotten_card(s: Session) -> None:
    readers, limit = s.d.devices.id_readers, s.d.timings.device_call_timeout_s
    if readers and not s._steps.busy:
        s._begin("card left", lambda: identify.card_left(readers, limit),
                 lambda present: on_card_left(s, present), limit_s=limit, late=False)


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
            # Kept (in memory, wiped with the rest) so that assisting staff may choose the
            # way forward for an expired one; never used without them.
            s.expired_identity = result.identity if refused is ReadFailure.EXPIRED else None
            return
        s.identity = result.identity
        s.d.audit.record("identity_read", kind=result.identity.kind.value)
        if s.service and s.service.face_check and s.d.devices.camera is not None:
            to_face_check(s)
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


def _date_yymmdd(text: str) -> str:
    """A date as the citizen typed it (YYMMDD, YYYYMMDD, 1969-08-06) as the MRZ has it."""
    digits = "".join(c for c in text if c.isdigit())
    return digits[2:] if len(digits) == 8 else digits


def take_passport_details(s: Session, number: str, birth: str, expiry: str) -> None:
    """The passport's data-page details, typed: checked here, then kept (in memory, for this
    session only) to open the chip with on every read until the document is read."""
    s.errors = {}
    fields = {"passport_number": "".join(number.split()).upper(),
              "birth_date": _date_yymmdd(birth), "expiry_date": _date_yymmdd(expiry)}
    try:
        key = MrzKey.parse("/".join(fields.values()))
    except MrzError as e:  # the message names the part that is wrong
        wrong = "birth_date" if "birth" in str(e) else "expiry_date" if "expiry" in str(e) \
            else "passport_number"
        s.errors[wrong] = "invalid"
        s.notice = Notice("passport_details_invalid")
        return
    s.passport_key = key  # wiped with the rest at the session's end
    s.notice = Notice("reading_passport")
    s.entered_at = s.d.clock.now()
    read_documents(s)  # now, with the details: a read in flight without them is dropped


def read_documents(s: Session) -> None:
    """In IDENTIFY: one round of reads on every reader (a passport's chip opened with the
    details typed, if any); the answer goes to on_document."""
    readers, limit = s.d.devices.id_readers, s.d.timings.device_call_timeout_s
    if not readers:
        return
    key = s.passport_key
    s._begin("identify", lambda: identify.read_first_document(readers, limit, key),
             lambda read: on_document(s, read), limit_s=limit, late=None)


def look_for_face(s: Session) -> None:
    """In VERIFY: a frame from the camera until one is usable, then the back office's verdict
    on it; nothing more once the terminal has given up (the citizen is asked to call staff)."""
    camera, identity = s.d.devices.camera, s.identity
    if s.face_gave_up or identity is None:
        return
    if camera is None:  # no camera fitted: services that check faces are not offered
        after_identified(s)
    elif s.face_frame is None:
        limit = s.d.timings.device_call_timeout_s
        s._begin("face", lambda: identify.check_face(camera, limit),
                 lambda check: on_face(s, check), limit_s=limit,
                 late=FaceCheck(FaceOutcome.FAULT))
    else:
        faces, frame = s.d.faces, s.face_frame
        s._begin("verify face", lambda: identify.verify_face(faces, identity, frame),
                 lambda answer: on_face_answer(s, answer),
                 limit_s=s.d.timings.backoffice_timeout_s, late=None)


def on_face(s: Session, check: FaceCheck) -> None:
    if check.outcome is FaceOutcome.CAPTURED:
        s.face_frame = check.best_frame
        s.notice = Notice("face_checking")
        look_for_face(s)
    elif check.outcome is FaceOutcome.FAULT:
        s.notice = Notice("camera_fault")
    elif s.d.clock.now() - s.entered_at > s.scaled(s.d.timings.face_wait_s):
        s.notice = Notice("face_wait_long")
    elif check.guidance:
        s.notice = Notice(f"face_{check.guidance}")  # come closer, look at the screen, ...


def _give_up_on_face(s: Session, reason: str) -> None:
    s.face_frame, s.face_gave_up = None, True
    s.d.audit.record("face_check_failed", reason=reason)
    s.notice = Notice(f"face_{reason}")  # each says to call staff


def on_face_answer(s: Session, answer: FaceAnswer | None) -> None:
    assert s.service is not None
    if answer is None:  # the back office could not be asked
        if s.service.intent is Intent.APPLY and s.service.issues is None:
            # The application waits in the outbox anyway: the frame goes with it (encrypted
            # there) and the back office checks it on receipt. A certificate is issued now.
            s.face_check = "deferred"
            s.d.audit.record("face_check_deferred")
            after_identified(s)
        else:  # a door or an answer now cannot wait for a later check
            _give_up_on_face(s, "check_unavailable")
    elif answer.decision == "match":
        s.face_frame, s.face_check = None, "matched"
        s.d.audit.record("face_matched", distance=answer.distance)
        after_identified(s)
    elif answer.decision in ("no_reference", "no_face_on_document"):
        _give_up_on_face(s, "no_reference")  # nothing to compare with: staff must look
    else:  # no match, or the frame showed no face after all: look again, a limited number
        s.face_frame = None
        s.face_attempts += 1
        s.d.audit.record("face_not_matched", decision=answer.decision, attempt=s.face_attempts)
        if s.face_attempts >= s.d.timings.face_attempts:
            _give_up_on_face(s, "not_matched")
        else:
            s.entered_at = s.d.clock.now()  # a new wait for a usable frame
            s.notice = Notice("face_try_again")


def face_record(s: Session) -> dict[str, object] | None:
    """How the face check went, for the application's envelope: a deferred check carries
    the frame and the document's photo (the outbox encrypts them at rest)."""
    if s.face_check in ("matched", "staff_verified"):  # staff_verified: compared by sight
        return {"check": s.face_check}
    if s.face_check == "deferred" and s.face_frame is not None and s.identity is not None:
        record: dict[str, object] = {"check": "deferred",
                                     "live_frame_b64": base64.b64encode(s.face_frame).decode()}
        photo = s.identity.photo
        if photo is not None and photo.format in identify.COMPARABLE_PHOTOS:
            record["document_photo_b64"] = base64.b64encode(photo.data).decode()
        return record
    return None


def on_card_left(s: Session, present: bool) -> None:
    if s.state in (State.GOODBYE, State.RATE):
        s.card_was_left = present


def after_goodbye(s: Session, now: float) -> None:
    """The goodbye screen stays while a card is left in a reader, called out full screen,
    until it is taken or, past the limit, staff are told; then the attract screen (where the
    card is never read for the next citizen)."""
    waited = now - s.entered_at
    if s.card_was_left and waited < s.scaled(s.d.timings.card_left_alert_s):
        watch_for_forgotten_card(s)  # the call-out goes when the card does
        return
    if s.card_was_left and not s.card_alerted:
        s.card_alerted = True
        s.d.audit.record("card_left_alert")
        queue_event_safely(s, "staff.card_left", {})
    if waited >= s.scaled(s.d.timings.goodbye_s):
        s._reset_preferences()
        s.go(State.ATTRACT)
    else:
        watch_for_forgotten_card(s)


def watch_delivery(s: Session) -> None:
    """On the result screen: "saved, will be submitted" turns into "submitted" once the back
    office has the application (the outbox delivered it while the citizen is still here)."""
    outcome = s.outcome
    if outcome is None or outcome.delivered is not False or s.queued_key is None:
        return
    if s.d.delivered(s.queued_key):
        s.outcome = replace(outcome, delivered=True)


def on_applications(s: Session, apps: tuple[ApplicationSummary, ...] | None) -> None:
    s.outcome = Outcome("screen", applications=apps)
    s.go(State.DONE)


def on_printed(s: Session, service: Service, job: int | None,
               printed: handover.Printed) -> None:
    if job is not None:
        try:
            s.d.journal.finish(job, printed.ok, s.d.clock.wall())
        except (sqlite3.Error, OSError):  # left "printing": abandoned (staff told) at start
            log.exception("the print journal cannot be written")
    if printed.ok:
        s.d.audit.record("receipt_printed", service=service.id)
    else:
        s.d.audit.record("receipt_print_failed", failure=printed.failure)
    assert s.outcome is not None
    s.outcome = replace(s.outcome, printed=printed.ok)
    s.go(State.DONE, None if printed.ok else Notice("print_failed"))
