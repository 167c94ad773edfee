"""The citizen session: an explicit state machine, driven by intents and by `tick()`.

attract -> home -> choose -> identify -> verify -> fill -> confirm -> submitting -> handover
-> done -> goodbye -> attract. Choosing comes before identifying so that the tap budgets of
UI.md hold (touch -> 我要办 -> 户籍证明 -> card + face -> confirm).

This module and results.py (what identification and each step's result lead to) are the only
places that change state. What waits on a device or the network (reading a document, a face,
printing, a locker door, the back office) runs as a step off the lock and hands its result
back (kiosk/session/steps/), so Back, Home, Call staff and the countdown
are answered at once while a printer hangs. Time comes only from the injected clock and every
limit from `Timings`; nothing waits forever and tests never sleep.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from devices.certificate_printer.protocol import CertificateDocument
from devices.id_reader.pcsc.icao9303.mrz import MrzKey
from devices.id_reader.protocol import Identity
from kiosk.config.catalogue import Intent, Service
from kiosk.health.availability import available_services
from kiosk.session import certify, collect, results, staff_call
from kiosk.session.assist import StaffSteps
from kiosk.session.hours import serving
from kiosk.session.intents import intent
from kiosk.session.ports import SessionDeps
from kiosk.session.snapshot import build_view, can_reprint, choices
from kiosk.session.stepping import Step, StepSlot
from kiosk.session.view import IDLE_STATES, Notice, Outcome, SessionView, State
from kiosk.session.visit import Preferences, VisitSteps, new_visit_id, owes_rating, to_face_check

log = logging.getLogger(__name__)
Listener = Callable[[SessionView], None]
# The machine moves on by itself out of these; no inactivity countdown runs in them.
BUSY_STATES = frozenset({State.SUBMITTING, State.HANDOVER})


class Session(Preferences, VisitSteps, StaffSteps):
    language: str  # the preferences (visit.py): until the attract screen returns
    elder: bool
    high_contrast: bool
    read_aloud: bool
    def __init__(self, deps: SessionDeps) -> None:
        self.d = deps
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._steps = StepSlot()
        self.state = State.ATTRACT
        self.entered_at = deps.clock.now()
        self._reset_preferences()
        self._reset_citizen_data()
        self.visit_id = new_visit_id()
        self.rated_service: str | None = None  # what the visit was for, kept for its rating
        self.rated = False

    # ---------------------------------------------------------------- plumbing
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _reset_citizen_data(self) -> None:
        """The privacy wipe: everything personal or session-specific goes."""
        self.intent: Intent | None = None
        self.group: str | None = None
        self.service: Service | None = None
        self.identity: Identity | None = None
        self.passport_key: MrzKey | None = None  # a passport's typed details, to open its chip
        self.face_frame: bytes | None = None  # the camera's best frame, until checked
        self.face_check: str | None = None  # "matched", or "deferred" to the back office
        self.face_attempts = 0  # faces the back office found not matching
        self.face_gave_up = False  # no more looking: the citizen is asked to call staff
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.notice: Notice | None = None
        self.outcome: Outcome | None = None
        self.tracking_no: str | None = None  # a certificate's, kept to ask again idempotently
        self.certificate: CertificateDocument | None = None  # issued: kept for a reprint
        self.door_intent: int | None = None  # the journaled opening of the citizen's door
        self.staff_called = False
        self.staff_when = ""  # "staffed", "taken" or "after_hours", when staff were called
        self.call_checked_at = 0.0  # when the back office was last asked after the call
        self.assisted_by = ""  # the staff number of who assists the citizen, if anyone
        self.expired_identity: Identity | None = None  # refused as expired, for staff to judge
        self.extensions = 0
        self.card_was_left = False  # on the goodbye screen: a card is still in a reader
        self.card_alerted = False  # staff were told of it
        self.queued_key: str | None = None  # the application's envelope, to see it delivered
        self.face_consent = False
        self.face_declined = False  # declined the face check: staff may look instead
        self.call_id = ""  # this call for help's own random id (its envelope's key)
        self.rating_level: int | None = None
        self.rating_reasons: set[str] = set()
        self._last_activity = self.d.clock.now()

    def scaled(self, seconds: float) -> float:
        return seconds * (self.d.timings.elder_factor if self.elder else 1.0)

    def go(self, state: State, notice: Notice | None = None) -> None:
        if state is not self.state:
            log.debug("session %s -> %s", self.state, state)
            if self.state is State.IDENTIFY:  # read for that screen's service only
                self.expired_identity = None
            # A new screen is something new to read: the inactivity clock starts again. What
            # was in flight for the old one will not be applied to the new one.
            self._activity()
            self._steps.drop()
        self.state = state
        self.notice = notice
        self.entered_at = self.d.clock.now()

    def _activity(self) -> None:
        self._last_activity = self.d.clock.now()

    def _publish(self) -> None:
        view = self.view()
        for listener in list(self._listeners):
            listener(view)

    def availability(self) -> dict[str, str | None]:
        return available_services(self.d.services, self.d.statuses(), self.d.online())

    # ---------------------------------------------------------------- steps
    def _begin(self, name: str, work: Callable[[], Any], apply: Callable[[Any], None], *,
               limit_s: float, late: Any) -> None:
        """Under the lock: start a step; it runs once the lock is released."""
        grace = self.d.timings.step_grace_s
        self._steps.begin(Step(name, self.d.clock.now(), limit_s + grace, work, apply, late))

    def _launch_steps(self) -> None:
        with self._lock:
            launches = self._steps.take_launches()
        for step in launches:
            self.d.steps.run(functools.partial(self._run_step, step))

    def _run_step(self, step: Step) -> None:
        try:
            result = step.work()
        except Exception:  # a bug in a step: the session goes on as if it had overrun
            log.exception("session step %s failed", step.name)
            result = step.late
        with self._lock:
            if not self._steps.finished(step):
                return  # the session moved on (or gave up on it): drop the result
            step.apply(result)
            self._publish()
        self._launch_steps()

    # ---------------------------------------------------------------- view
    def view(self) -> SessionView:
        with self._lock:
            return build_view(self)

    def countdown_remaining(self, now: float) -> float | None:
        if self.state in IDLE_STATES or self.state in BUSY_STATES:
            return None
        idle = now - self._last_activity
        start = self.scaled(self.d.timings.idle_before_countdown_s)
        if idle < start:
            return None
        return max(0.0, self.scaled(self.d.timings.countdown_s) - (idle - start))

    # ---------------------------------------------------------------- intents
    @intent
    def touch(self) -> None:
        """The attract screen was touched: a session begins, with nothing of the last one."""
        if self.state is State.ATTRACT:
            target, notice = serving(self)  # looked at again: it may have changed
            if target is State.OUT_OF_SERVICE:
                self.go(target, notice)
                return
            self._reset_citizen_data()
            # The visit's random id (no personal data) and what it was for, for its rating.
            self.visit_id, self.rated_service, self.rated = new_visit_id(), None, False
            self.d.audit.record("session_started")
            self.go(State.HOME)

    @intent
    def choose_intent(self, intent: Intent) -> None:
        """我要办 / 我要取 / 我要查."""
        if self.state not in (State.HOME, State.CHOOSE):
            return
        self.intent, self.group = intent, None
        if intent is Intent.APPLY:
            self.go(State.CHOOSE)
            return
        # 我要取 and 我要查 each lead to one service: straight to identification.
        service = next((s for s in self.d.services if s.intent is intent), None)
        if service is None:
            self.go(State.HOME, Notice("service_not_offered"))
            return
        self._select(service)

    @intent
    def choose(self, item_id: str) -> None:
        """A button on the service list: a group opens, a service is selected."""
        if self.state is not State.CHOOSE:
            return
        item = next((c for c in choices(self) if c.id == item_id), None)
        if item is None:
            return
        if item.unavailable_reason is not None:
            self.notice = Notice("service_unavailable", (("reason", item.unavailable_reason),))
        elif item.is_group:
            self.group, self.notice = item.id, None
        else:
            self._select(next(s for s in self.d.services if s.id == item_id))

    def _select(self, service: Service) -> None:
        reason = self.availability()[service.id]
        if reason is not None:
            self.go(self.state, Notice("service_unavailable", (("reason", reason),)))
            return
        self.service = service
        self.values, self.errors, self.outcome = {}, {}, None
        if self.identity is None:
            self.go(State.IDENTIFY)
        elif service.face_check and self.face_check is None:
            to_face_check(self)
        else:
            results.after_identified(self)

    @intent
    def enter_passport_details(self, number: str, birth: str, expiry: str) -> None:
        if self.state is State.IDENTIFY:
            results.take_passport_details(self, number, birth, expiry)

    @intent
    def set_field(self, name: str, value: str) -> None:
        if self.state is not State.FILL or self.service is None:
            return
        spec = next((f for f in self.service.fields if f.name == name), None)
        if spec is None:
            return
        value = value.strip()[: spec.max_length]
        if spec.kind == "choice" and value and value not in {c.value for c in spec.choices}:
            self.errors[name] = "invalid_choice"
            return
        self.values[name] = value
        self.errors.pop(name, None)

    @intent
    def submit_form(self) -> None:
        if self.state is not State.FILL or self.service is None:
            return
        self.errors = {f.name: "required" for f in self.service.fields
                       if f.required and not self.values.get(f.name)}
        if self.errors:
            self.notice = Notice("form_incomplete")
        else:
            self.go(State.CONFIRM)

    @intent
    def confirm(self) -> None:
        """Submit: durable in the outbox before the citizen is told it is done; or, for a
        certificate, issued by the back office now and printed."""
        if self.state is not State.CONFIRM or self.service is None or self.identity is None:
            return
        if self.service.issues == "certificate":
            certify.issue(self)
        else:
            results.submit_application(self)

    @intent
    def pickup_code(self, code: str) -> None:
        """我要取 by the pickup code the citizen was sent, instead of a document."""
        collect.by_code(self, code)

    @intent
    def reprint(self) -> None:
        if not (self.service and self.outcome and can_reprint(self)):
            return
        if self.certificate is not None:
            certify.start_print(self)
        elif self.outcome.tracking_no:
            results.start_print(self, self.service, self.outcome.tracking_no)

    @intent
    def back(self) -> None:
        s = self.state
        if s is State.HOME:
            self.end("back_to_start")
        elif s is State.CHOOSE and self.group is not None:
            self.group, self.notice = None, None
        elif s is State.CHOOSE:
            self.go(State.HOME)
        elif s in (State.IDENTIFY, State.CONSENT, State.VERIFY, State.FILL):
            self.go(State.CHOOSE if self.intent is Intent.APPLY else State.HOME)
        elif s is State.CONFIRM:
            self.go(State.FILL if self.service and self.service.fields else State.CHOOSE)
        elif s is State.DONE:
            self.end("finished")

    @intent
    def go_home(self) -> None:
        if self.state not in IDLE_STATES and self.state not in BUSY_STATES:
            self.service, self.group, self.intent = None, None, None
            self.go(State.HOME)

    @intent
    def finish(self) -> None:
        if self.state is State.DONE:
            self.end("finished")

    def extend_time(self) -> None:
        """"I need more time": the countdown disappears; limited in number."""
        with self._lock:
            if self.extensions < self.d.timings.max_extensions:
                self.extensions += 1
                self._activity()
            self._publish()

    @intent
    def call_staff(self) -> None:
        """Call staff, from any screen: the terminal and the screen, no personal data."""
        staff_call.call_for_help(self)

    def call_taken(self, visit: str) -> None:
        """The back office says a member of staff has taken this visit's call."""
        with self._lock:
            if staff_call.on_taken(self, visit):
                self._publish()

    # ---------------------------------------------------------------- time and devices
    def tick(self) -> None:
        """Look at the clock once and start the next device poll. Called every `ui_tick_s`."""
        with self._lock:
            before = (self.state, self.notice, self.outcome, self.card_was_left)
            counting_before = self.countdown_remaining(self.d.clock.now()) is not None
            self._tick()
            counting = self.countdown_remaining(self.d.clock.now()) is not None
            after = (self.state, self.notice, self.outcome, self.card_was_left)
            if after != before or counting_before or counting:
                self._publish()
        self._launch_steps()

    def _tick(self) -> None:
        now = self.d.clock.now()
        overdue = self._steps.overdue(now)
        if overdue is not None:
            log.error("session step %s gave no answer within %.1f s", overdue.name,
                      overdue.limit_s)
            overdue.apply(overdue.late)
        if self.state in (State.ATTRACT, State.OUT_OF_SERVICE):
            target, notice = serving(self)
            if target is not self.state or notice != self.notice:
                self.go(target, notice)
            return
        if self.state is State.GOODBYE:
            results.after_goodbye(self, now)
            return
        staff_call.watch_call(self, now)
        remaining = self.countdown_remaining(now)
        if remaining is not None and remaining <= 0:
            self.end("timeout")
        elif self._steps.busy:
            return
        elif self.state is State.IDENTIFY:
            results.read_documents(self)
        elif self.state is State.VERIFY:
            results.look_for_face(self)
        elif self.state is State.HANDOVER and self.outcome and self.outcome.door_open:
            collect.watch_door(self, now)
        elif self.state is State.DONE:
            results.watch_delivery(self)
        elif self.state is State.RATE:
            self._watch_card()

    def end(self, reason: str) -> None:
        results.leave_unprinted(self)  # a tracking or serial number only; then the wipe, first:
        if self.service is not None:
            self.rated_service = self.service.id
        self._reset_citizen_data()  # nothing that follows (a full disk) may keep the data
        if owes_rating(self, reason):  # 好差评: asked after the wipe, with nothing personal
            self.go(State.RATE)
        else:
            self.go(State.GOODBYE, Notice(f"goodbye_{reason}"))
        self._watch_card()
        self.d.audit.record("session_ended", reason=reason)

    def _watch_card(self) -> None:
        """A card left in a reader is called out (full screen) until it is taken."""
        results.watch_for_forgotten_card(self)

    def close(self) -> None:
        """The terminal is shutting down: nothing in flight will be applied."""
        with self._lock:
            self._steps.drop()
