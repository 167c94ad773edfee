"""Collecting a certificate from the locker (我要取): the citizen's item is found by their
identity document (its ID number hashed with each item's salt) or by a pickup code, its door is
opened and shown on the screen, and the item counts as collected only once the door is seen
closed on an empty compartment. Every door opening is journaled before the unlock is sent and
resolved by what the sensors said, so a crash in between is reconciled at the next start
(kiosk/locker/reconcile.py), never guessed. A door that does not open is reported to staff
and never re-driven; a door left open is reminded, then handed to staff.

Called by `Session` (machine.py) under its lock, like results.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.locker.protocol import DoorOutcome, DoorState
from kiosk.config.catalogue import Intent
from kiosk.records.locker_store import PICKUP, LockerItem
from kiosk.session.events import queue_event_safely
from kiosk.session.steps import handover
from kiosk.session.view import Notice, Outcome, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session


CODE_TRIES = 5  # wrong codes in a row before the terminal stops taking codes for a while
CODE_LOCK_S = 60.0  # the first pause; it doubles with every further run of wrong codes
CODE_LOCK_MAX_S = 3600.0
CODE_WINDOW_S = 6 * 3600.0  # wrong codes are counted over this long, right ones or not


def code_locked_until(failures: list[float]) -> float | None:
    """After every CODE_TRIES wrong codes (over the last CODE_WINDOW_S), no code is taken for
    a pause that doubles each time (a guess at a six-digit code costs hours, not seconds);
    None: codes are taken."""
    runs = len(failures) // CODE_TRIES
    if runs == 0 or len(failures) % CODE_TRIES:
        return None
    pause: float = min(CODE_LOCK_MAX_S, CODE_LOCK_S * 2.0 ** (runs - 1))
    return failures[-1] + pause


def _locked(until: float, now: float) -> Notice:
    return Notice("code_locked", (("minutes", str(max(1, round((until - now) / 60)))),))


def by_code(s: Session, code: str) -> None:
    """From the identify screen of 我要取: a pickup code instead of a document (no face
    check: the code is what was sent to the citizen). Checking it hashes it with each item's
    salt, off the session's lock."""
    if s.state is not State.IDENTIFY or s.service is None or s.service.intent is not \
            Intent.COLLECT:
        return
    now, store = s.d.clock.wall(), s.d.inventory
    until = code_locked_until(store.code_failures(since=now - CODE_WINDOW_S))
    if until is not None and now < until:
        s.notice = _locked(until, now)
        return
    digits = "".join(c for c in code if c.isdigit())
    s._begin("pickup code", lambda: store.for_code(digits) if len(digits) == 6 else None,
             lambda item: on_code(s, item), limit_s=s.d.timings.device_call_timeout_s,
             late=LATE)


LATE = "late"  # the check did not finish in time: neither right nor wrong


def on_code(s: Session, item: LockerItem | str | None) -> None:
    if item == LATE:
        return
    if not isinstance(item, LockerItem):
        now = s.d.clock.wall()
        failures = s.d.inventory.code_failed(now, CODE_WINDOW_S)
        s.d.audit.record("pickup_code_wrong", tries=len(failures))
        locked = code_locked_until(failures)
        if locked is not None:
            s.d.audit.record("pickup_code_locked", until=locked)
            queue_event_safely(s, "locker.codes_locked", {"wrong_codes": len(failures)})
            s.notice = _locked(locked, now)
        else:
            s.notice = Notice("code_wrong",
                              (("left", str(CODE_TRIES - len(failures) % CODE_TRIES)),))
        return
    s.d.audit.record("pickup_code_accepted", door=item.door)
    collect(s, [item])


def by_identity(s: Session, id_number: str) -> None:
    """The identified citizen's items, matched off the session's lock (a hash per item)."""
    inventory = s.d.inventory
    s._begin("find items", lambda: inventory.for_identity(id_number),
             lambda items: collect(s, items), limit_s=s.d.timings.device_call_timeout_s,
             late=None)


def collect(s: Session, items: list[LockerItem] | None) -> None:
    """Open the door of the first of the citizen's items (identified, or by pickup code);
    None: they could not be looked up in time (the citizen is asked to call staff)."""
    locker = s.d.devices.locker
    if items is None:
        s.outcome = Outcome("locker")
        s.go(State.DONE, Notice("door_failed"))
        return
    if not items or locker is None:
        s.outcome = Outcome("locker", nothing_to_collect=not items)
        s.go(State.DONE, None if not items else Notice("door_failed"))
        return
    item = items[0]
    door, limit = item.door, s.d.timings.device_call_timeout_s * 2
    s.door_intent = s.d.inventory.intend(door, PICKUP, item.application_no, s.d.clock.wall())
    s.outcome = Outcome("locker", door=door, door_label=s.d.door_labels.get(door, ""))
    s.go(State.HANDOVER)
    s._begin("open door", lambda: handover.open_door(locker, door, limit),
             lambda r: on_door_opened(s, item, r), limit_s=limit,
             late=handover.DoorOpened(DoorOutcome.FAULT, late=True))


def on_door_opened(s: Session, item: LockerItem, opened: handover.DoorOpened) -> None:
    door, intent = item.door, s.door_intent
    assert s.outcome is not None and intent is not None
    if opened.late:
        # The board may still open the door: watch it as if open (the door watch tells
        # whether the certificate was taken, and alerts staff if the door stays open).
        s.d.audit.record("locker_door_failed", door=door, outcome="timeout")
        s.outcome = Outcome("locker", door=door, door_open=True,
                            door_label=s.outcome.door_label)
    elif opened.outcome is DoorOutcome.OPENED:
        s.d.inventory.door_answered(intent, True)
        s.d.audit.record("locker_door_opened", door=door)
        s.outcome = Outcome("locker", door=door, door_open=True, door_count=opened.door_count,
                            door_label=s.outcome.door_label)
    else:
        s.d.inventory.door_answered(intent, False)
        s.d.inventory.resolve(intent, opened.outcome.value, s.d.clock.wall())
        s.d.audit.record("locker_door_failed", door=door, outcome=opened.outcome.value)
        if opened.outcome is DoorOutcome.JAMMED:  # never re-driven: a person must look
            queue_event_safely(s, "locker.door_jammed", {"door": door})
        s.outcome = Outcome("locker", door=door, door_open=False,
                            door_label=s.outcome.door_label)
        s.go(State.DONE, Notice("door_failed"))


def watch_door(s: Session, now: float) -> None:
    """Wait for the door to close: a reminder after a while, then staff are alerted and the
    session ends (one collection never holds the terminal; the journal keeps the door's
    intent open, and the terminal goes on watching it)."""
    assert s.outcome is not None and s.outcome.door is not None
    door, open_for = s.outcome.door, now - s.entered_at
    if open_for > s.scaled(s.d.timings.door_close_wait_s):
        s.d.audit.record("locker_door_left_open", door=door)
        queue_event_safely(s, "locker.door_left_open", {"door": door})
        s.end("door_left_open")
        return
    if open_for > s.scaled(s.d.timings.door_reminder_s) and s.notice is None:
        s.notice = Notice("door_close_reminder", (("door", s.outcome.door_label or str(door)),))
    locker, limit = s.d.devices.locker, s.d.timings.device_call_timeout_s
    s._begin("door", lambda: handover.door_state(locker, door, limit),
             lambda sensors: on_door_state(s, door, sensors), limit_s=limit, late=None)


def on_door_state(s: Session, door: int, sensors: DoorState | None) -> None:
    if sensors is None or sensors.is_open:
        return
    assert s.outcome is not None
    intent = s.door_intent
    s.outcome = Outcome("locker", door=door, door_open=False, door_label=s.outcome.door_label)
    now = s.d.clock.wall()
    if sensors.item_present or not sensors.item_known:
        # Still inside, or no sensor to tell: never recorded as collected.
        if intent is not None:
            s.d.inventory.resolve(intent, "not_taken" if sensors.item_known else "unknown",
                                  now)
        if not sensors.item_known:
            s.d.inventory.to_staff(door)
            queue_event_safely(s, "locker.needs_staff", {"door": door, "reason": "no_sensor"})
        s.go(State.DONE, Notice("item_not_taken") if sensors.item_known
             else Notice("door_closed_unconfirmed"))
        return
    item = s.d.inventory.item(door)
    # The event first, keyed by the intent: a crash after it is settled by the next start
    # without a second one; a crash before it, by the sensors, with it.
    queued = queue_event_safely(s, "locker.collected", {
        "door": door, "application_no": item.application_no if item else ""},
        key=s.d.inventory.event_key("collected", intent) if intent is not None else None)
    if not queued and intent is not None:  # the watch settles it, with its event, later
        s.go(State.DONE)
        return
    s.d.inventory.collected(door)
    if intent is not None:
        s.d.inventory.resolve(intent, "collected", now)
    s.d.audit.record("locker_item_collected", door=door)
    s.go(State.DONE)
