"""The citizen session: an explicit state machine, driven by intents and by `tick()`.

attract -> home -> choose -> identify -> verify -> fill -> confirm -> submitting -> handover
-> done -> goodbye -> attract. Choosing comes before identifying so that the tap budgets of
UI.md hold (touch -> 我要办 -> 户籍证明 -> card + face -> confirm).

Every method is synchronous and quick except those that touch the outbox, the printer or the
back office; the UI calls all of them from one worker thread, never from its own. Time comes
only from the injected clock and every limit from `Timings`, so tests never sleep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from devices.camera.protocol import FaceOutcome
from devices.id_reader.gb11643 import is_valid, mask
from devices.id_reader.protocol import DocumentKind, Identity, ReadFailure
from kiosk.availability import available_services
from kiosk.catalogue import Intent, Service, load_catalogue
from kiosk.session.handover import collect_from_locker, print_receipt_for, query_applications
from kiosk.session.ports import SessionDeps
from kiosk.session.view import IDLE_STATES, ChoiceItem, Notice, Outcome, SessionView, State
from kiosk.submission import citizen_hash, queue_application, queue_event

log = logging.getLogger(__name__)
Listener = Callable[[SessionView], None]


def mask_name(name: str) -> str:
    """张* / 李** / J*** : enough to recognise oneself, not enough to identify."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


class Session:
    def __init__(self, deps: SessionDeps) -> None:
        self.d = deps
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self.state = State.ATTRACT
        self._entered_at = deps.clock.now()
        self._reset_preferences()
        self._reset_citizen_data()

    # ---------------------------------------------------------------- plumbing
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _reset_preferences(self) -> None:
        """Language, elder mode and theme last until the attract screen returns, so that the
        goodbye screen still speaks to the citizen the way they chose."""
        self.language = self.d.default_language
        self.elder = False
        self.high_contrast = self.d.high_contrast

    def _reset_citizen_data(self) -> None:
        """The privacy wipe: everything personal or session-specific goes."""
        self.intent: Intent | None = None
        self.group: str | None = None
        self.service: Service | None = None
        self.identity: Identity | None = None
        self.face_frame: bytes | None = None
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.notice: Notice | None = None
        self.outcome: Outcome | None = None
        self.staff_called = False
        self.extensions = 0
        self._last_activity = self.d.clock.now()
        self._end_reason = ""

    def _scaled(self, seconds: float) -> float:
        return seconds * (self.d.timings.elder_factor if self.elder else 1.0)

    def _go(self, state: State, notice: Notice | None = None) -> None:
        if state is not self.state:
            log.debug("session %s -> %s", self.state, state)
        self.state = state
        self.notice = notice
        self._entered_at = self.d.clock.now()

    def _activity(self) -> None:
        self._last_activity = self.d.clock.now()

    def _publish(self) -> None:
        view = self.view()
        for listener in list(self._listeners):
            listener(view)

    def _statuses_and_availability(self) -> dict[str, str | None]:
        return available_services(self.d.services, self.d.statuses(), self.d.online())

    # ---------------------------------------------------------------- view
    def view(self) -> SessionView:
        with self._lock:
            now = self.d.clock.now()
            countdown = self._countdown_remaining(now)
            ident = self.identity
            waiting = self.state in (State.IDENTIFY, State.VERIFY)
            limit = self.d.timings.identify_wait_s if self.state is State.IDENTIFY else (
                self.d.timings.face_wait_s)
            online = self.d.online()
            return SessionView(
                state=self.state,
                language=self.language,
                elder=self.elder,
                high_contrast=self.high_contrast,
                offline=online is False,
                choices=self._choices() if self.state is State.CHOOSE else (),
                group_title=(load_catalogue().group_by_id(self.group).title
                             if self.group else None),
                service=self.service,
                masked_name=mask_name(ident.name) if ident else None,
                masked_id=mask(ident.id_number) if ident else None,
                fields=self.service.fields if self.service else (),
                values=dict(self.values),
                errors=dict(self.errors),
                countdown_s=countdown,
                extensions_left=max(0, self.d.timings.max_extensions - self.extensions),
                notice=self.notice,
                outcome=self.outcome,
                staff_called=self.staff_called,
                card_left=(self.state is State.GOODBYE and self.d.devices.id_reader is not None
                           and self.d.devices.id_reader.card_present()),
                waited_s=now - self._entered_at if waiting else 0.0,
                wait_limit_s=self._scaled(limit) if waiting else 0.0,
            )

    def _choices(self) -> tuple[ChoiceItem, ...]:
        avail = self._statuses_and_availability()
        items: list[ChoiceItem] = []
        seen_groups: set[str] = set()
        for s in self.d.services:
            if s.intent is not self.intent:
                continue
            if self.group is None and s.group is not None:
                if s.group in seen_groups:
                    continue
                seen_groups.add(s.group)
                g = load_catalogue().group_by_id(s.group)
                members = [m for m in self.d.services if m.group == g.id]
                reasons = [avail[m.id] for m in members]
                reason = None if any(r is None for r in reasons) else reasons[0]
                items.append(ChoiceItem(g.id, g.title, g.summary, True, reason))
            elif s.group == self.group:
                items.append(ChoiceItem(s.id, s.title, s.summary, False, avail[s.id]))
        return tuple(items)

    def _countdown_remaining(self, now: float) -> float | None:
        if self.state in IDLE_STATES or self.state in (State.SUBMITTING, State.HANDOVER):
            return None
        idle = now - self._last_activity
        start = self._scaled(self.d.timings.idle_before_countdown_s)
        if idle < start:
            return None
        return max(0.0, self._scaled(self.d.timings.countdown_s) - (idle - start))

    # ---------------------------------------------------------------- intents
    def _intent(fn: Callable[..., None]) -> Callable[..., None]:  # type: ignore[misc]
        """Every citizen intent: under the lock, counts as activity, publishes the result."""

        def wrapper(self: Session, *args: object) -> None:
            with self._lock:
                self._activity()
                fn(self, *args)
                self._publish()

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    @_intent
    def touch(self) -> None:
        """The attract screen was touched: a session begins."""
        if self.state is State.ATTRACT:
            self.d.audit.record("session_started")
            self._go(State.HOME)

    @_intent
    def choose_intent(self, intent: Intent) -> None:
        """我要办 / 我要取 / 我要查."""
        if self.state not in (State.HOME, State.CHOOSE):
            return
        self.intent, self.group = intent, None
        if intent is Intent.APPLY:
            self._go(State.CHOOSE)
            return
        # 我要取 and 我要查 each lead to one service: straight to identification.
        service = next((s for s in self.d.services if s.intent is intent), None)
        if service is None:
            self._go(State.HOME, Notice("service_not_offered"))
            return
        self._select(service)

    @_intent
    def choose(self, item_id: str) -> None:
        """A button on the service list: a group opens, a service is selected."""
        if self.state is not State.CHOOSE:
            return
        item = next((c for c in self._choices() if c.id == item_id), None)
        if item is None:
            return
        if item.unavailable_reason is not None:
            self.notice = Notice("service_unavailable", (("reason", item.unavailable_reason),))
            return
        if item.is_group:
            self.group = item.id
            self.notice = None
            return
        self._select(next(s for s in self.d.services if s.id == item_id))

    def _select(self, service: Service) -> None:
        reason = self._statuses_and_availability()[service.id]
        if reason is not None:
            self._go(self.state, Notice("service_unavailable", (("reason", reason),)))
            return
        self.service = service
        self.values, self.errors, self.outcome = {}, {}, None
        if self.identity is None:
            self._go(State.IDENTIFY)
        elif service.face_check and self.face_frame is None:
            self._go(State.VERIFY)
        else:
            self._after_identified()

    @_intent
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

    @_intent
    def submit_form(self) -> None:
        if self.state is not State.FILL or self.service is None:
            return
        self.errors = {
            f.name: "required" for f in self.service.fields
            if f.required and not self.values.get(f.name)
        }
        if self.errors:
            self.notice = Notice("form_incomplete")
        else:
            self._go(State.CONFIRM)

    @_intent
    def confirm(self) -> None:
        """Submit: durable in the outbox before the citizen is told it is done."""
        if self.state is not State.CONFIRM or self.service is None or self.identity is None:
            return
        service, identity = self.service, self.identity
        self._go(State.SUBMITTING)
        self._publish()
        try:
            queued = queue_application(
                self.d.sink, terminal_id=self.d.terminal_id, service_id=service.id,
                identity=identity, form=self.values, submitted_at=self.d.clock.wall(),
            )
        except Exception as e:  # disk full, broken database: say so, keep the form
            log.exception("outbox enqueue failed")
            self.d.audit.record("application_queue_failed", service=service.id,
                                error=type(e).__name__)
            self._go(State.CONFIRM, Notice("submit_failed"))
            return
        self.d.audit.record("application_queued", service=service.id,
                            tracking_no=queued.tracking_no)
        self.d.on_submitted()
        self.outcome = Outcome(service.output, tracking_no=queued.tracking_no)
        if service.output in ("receipt", "certificate"):
            self._go(State.HANDOVER)
            self._publish()
            self.outcome = print_receipt_for(self, service, queued.tracking_no)
        self._go(State.DONE, None if self.outcome.printed is not False
                 else Notice("print_failed"))

    @_intent
    def reprint(self) -> None:
        if self.state is State.DONE and self.service and self.outcome and self.outcome.tracking_no:
            self.outcome = print_receipt_for(self, self.service, self.outcome.tracking_no)
            self.notice = None if self.outcome.printed else Notice("print_failed")

    @_intent
    def back(self) -> None:
        s = self.state
        if s is State.HOME:
            self._end("back_to_start")
        elif s is State.CHOOSE and self.group is not None:
            self.group = None
            self.notice = None
        elif s is State.CHOOSE:
            self._go(State.HOME)
        elif s in (State.IDENTIFY, State.VERIFY, State.FILL):
            self._go(State.CHOOSE if self.intent is Intent.APPLY else State.HOME)
        elif s is State.CONFIRM:
            self._go(State.FILL if self.service and self.service.fields else State.CHOOSE)
        elif s is State.DONE:
            self._end("finished")

    @_intent
    def go_home(self) -> None:
        if self.state not in IDLE_STATES and self.state not in (State.SUBMITTING,
                                                                 State.HANDOVER):
            self.service, self.group, self.intent = None, None, None
            self._go(State.HOME)

    @_intent
    def finish(self) -> None:
        if self.state is State.DONE:
            self._end("finished")

    def extend_time(self) -> None:
        """"I need more time": the countdown disappears; limited in number."""
        with self._lock:
            if self.extensions < self.d.timings.max_extensions:
                self.extensions += 1
                self._activity()
            self._publish()

    @_intent
    def set_language(self, language: str) -> None:
        if language in ("zh", "en"):
            self.language = language

    @_intent
    def set_elder(self, on: bool) -> None:
        self.elder = bool(on)

    @_intent
    def set_high_contrast(self, on: bool) -> None:
        self.high_contrast = bool(on)

    @_intent
    def call_staff(self) -> None:
        """Call staff, from any screen: the terminal and the screen, no personal data."""
        if self.staff_called:
            return
        self.staff_called = True
        self.d.audit.record("staff_called", screen=self.state.value)
        try:
            queue_event(self.d.sink, "staff.call", {
                "terminal_id": self.d.terminal_id, "screen": self.state.value,
                "at": self.d.clock.wall(),
            })
            self.d.on_submitted()
        except Exception:
            log.exception("could not queue the staff call")
        self.notice = Notice("staff_called")

    # ---------------------------------------------------------------- time and devices
    def tick(self) -> None:
        """Look at the clock and the devices once. Called every `ui_tick_s` by the UI."""
        with self._lock:
            before = (self.state, self.notice, self.outcome)
            countdown_before = self._countdown_remaining(self.d.clock.now())
            self._tick()
            after_countdown = self._countdown_remaining(self.d.clock.now())
            if (self.state, self.notice, self.outcome) != before or (
                countdown_before is not None or after_countdown is not None):
                self._publish()

    def _tick(self) -> None:
        now = self.d.clock.now()
        t = self.d.timings
        if self.state in (State.ATTRACT, State.OUT_OF_SERVICE):
            until = self._maintenance_until()
            anything = any(r is None for r in self._statuses_and_availability().values())
            target = State.ATTRACT if anything and until is None else State.OUT_OF_SERVICE
            notice = Notice("maintenance", (("until", until),)) if until else None
            if target is not self.state or notice != self.notice:
                self._go(target, notice)
            return
        if self.state is State.GOODBYE:
            if now - self._entered_at >= self._scaled(t.goodbye_s):
                self._reset_preferences()
                self._go(State.ATTRACT)
            return
        remaining = self._countdown_remaining(now)
        if remaining is not None and remaining <= 0:
            self._end("timeout")
            return
        if self.state is State.IDENTIFY:
            self._poll_identity(now)
        elif self.state is State.VERIFY:
            self._poll_face(now)
        elif self.state is State.HANDOVER and self.outcome and self.outcome.door:
            self._poll_door(now)

    def _maintenance_until(self) -> str | None:
        """The end of the maintenance window ("03:20") while inside it, else None."""
        window = self.d.maintenance
        if window is None:
            return None
        t = time.localtime(self.d.clock.wall())
        minute, (start, end) = t.tm_hour * 60 + t.tm_min, window
        inside = start <= minute < end if start <= end else (minute >= start or minute < end)
        return f"{end // 60:02d}:{end % 60:02d}" if inside else None

    def _poll_identity(self, now: float) -> None:
        reader = self.d.devices.id_reader
        if reader is None:
            return
        result = reader.read()
        if result.identity is not None:
            if not is_valid(result.identity.id_number) and (
                    result.identity.kind is DocumentKind.RESIDENT_ID):
                self.notice = Notice("id_invalid")
                self.d.audit.record("identity_read_failed", failure="invalid_number")
                return
            self._activity()
            self.identity = result.identity
            self.d.audit.record("identity_read", kind=result.identity.kind.value)
            if self.service and self.service.face_check and self.d.devices.camera is not None:
                self._go(State.VERIFY)
            else:
                self._after_identified()
            return
        if result.failure not in (None, ReadFailure.NO_CARD):
            assert result.failure is not None
            self.d.audit.record("identity_read_failed", failure=result.failure.value)
            self.notice = Notice(f"id_{result.failure.value}")
        elif now - self._entered_at > self._scaled(self.d.timings.identify_wait_s):
            self.notice = Notice("id_wait_long")

    def _poll_face(self, now: float) -> None:
        camera = self.d.devices.camera
        if camera is None:
            self._after_identified()
            return
        check = camera.check_face()
        if check.outcome is FaceOutcome.CAPTURED:
            self._activity()
            self.face_frame = check.best_frame
            self._after_identified()
        elif check.outcome is FaceOutcome.FAULT:
            self.notice = Notice("camera_fault")
        elif now - self._entered_at > self._scaled(self.d.timings.face_wait_s):
            self.notice = Notice("face_wait_long")

    def _after_identified(self) -> None:
        service = self.service
        assert service is not None and self.identity is not None
        if service.intent is Intent.QUERY:
            self.outcome = query_applications(self, citizen_hash(self.identity.id_number))
            self._go(State.DONE)
        elif service.intent is Intent.COLLECT:
            self.outcome = collect_from_locker(self, citizen_hash(self.identity.id_number))
            door_ok = self.outcome.door is not None and self.outcome.door_open
            self._go(State.HANDOVER if door_ok else State.DONE,
                     None if door_ok or self.outcome.nothing_to_collect
                     else Notice("door_failed"))
        elif service.fields:
            self._go(State.FILL)
        else:
            self._go(State.CONFIRM)

    def _poll_door(self, now: float) -> None:
        locker, outcome = self.d.devices.locker, self.outcome
        assert outcome is not None and outcome.door is not None
        state = locker.door_state(outcome.door) if locker else None
        if state is not None and not state.is_open:
            if not state.item_present:
                self.d.inventory.collected(outcome.door)
                self.d.audit.record("locker_item_collected", door=outcome.door)
                queue_event(self.d.sink, "locker.collected", {
                    "terminal_id": self.d.terminal_id, "door": outcome.door,
                    "at": self.d.clock.wall()})
                self.d.on_submitted()
            self.outcome = Outcome("locker", door=outcome.door, door_open=False)
            self._go(State.DONE)
        elif now - self._entered_at > self.d.timings.door_close_wait_s and not self.staff_called:
            self.d.audit.record("locker_door_left_open", door=outcome.door)
            self.notice = Notice("door_left_open")

    def _end(self, reason: str) -> None:
        self.d.audit.record("session_ended", reason=reason)
        self._reset_citizen_data()
        self._go(State.GOODBYE, Notice(f"goodbye_{reason}"))

