"""Door intents left open (the terminal stopped between the unlock and the door closing, or a
door was left open) set against what the door and item sensors say now. An item is recorded
as collected only when its door is closed on a compartment the infrared sensor shows empty;
what the sensors cannot settle (a board that does not answer, no item sensor, an item that
should be there and is not) goes to staff. Run at start, and again while intents stay open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from devices.locker.protocol import DoorState
from kiosk.records.audit import AuditLog
from kiosk.records.locker_store import (
    COLLECTED,
    LOAD,
    LOADED,
    LOADING,
    PICKUP,
    RETRIEVE,
    DoorIntent,
    LockerInventory,
)
from kiosk.records.submission import EnvelopeSink, queue_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    door: int
    purpose: str
    outcome: str  # collected, not_taken, loaded, load_abandoned, retrieved, to_staff, open...
    settled: bool  # False: still open (the door is open), looked at again later


def reconcile(inventory: LockerInventory, states: Mapping[int, DoorState | None], *,
              sink: EnvelopeSink, audit: AuditLog, terminal_id: str, now: float,
              skip: Callable[[DoorIntent], bool] = lambda i: False) -> list[Finding]:
    """Settle every open intent (but those `skip` names, e.g. the live session's) that the
    sensors can settle; tell staff of the rest, once each (events keyed by intent)."""
    findings = []
    for intent in inventory.unresolved():
        if skip(intent):
            continue
        finding = _settle(inventory, intent, states.get(intent.door), now)
        findings.append(finding)
        event = {"terminal_id": terminal_id, "at": now, "door": intent.door,
                 "purpose": intent.purpose, "outcome": finding.outcome,
                 "application_no": intent.application_no}
        kinds = {"collected": "locker.collected", "retrieved": "locker.retrieved",
                 "loaded": "locker.loaded"}  # loaded: the back office sends the pickup code
        if finding.outcome in kinds:
            queue_event(sink, kinds[finding.outcome], event,
                        key=inventory.event_key(finding.outcome, intent.id))
        elif finding.outcome in ("to_staff", "open", "board_silent"):
            queue_event(sink, "locker.needs_staff", event,
                        key=inventory.event_key(f"needs_staff:{finding.outcome}", intent.id))
        if finding.settled:
            inventory.resolve(intent.id, finding.outcome, now)
            audit.record("locker_reconciled", door=intent.door, purpose=intent.purpose,
                         outcome=finding.outcome)
    return findings


def _settle(inventory: LockerInventory, intent: DoorIntent, sensors: DoorState | None,
            now: float) -> Finding:
    door, purpose = intent.door, intent.purpose

    def found(outcome: str, settled: bool = True) -> Finding:
        return Finding(door, purpose, outcome, settled)

    if sensors is None:  # the board does not answer: nobody can tell
        return found("board_silent", settled=False)
    if sensors.is_open:
        return found("open", settled=False)
    item = inventory.item(door, include_loading=True)
    if not sensors.item_known:
        if item is not None:
            inventory.to_staff(door)
        return found("to_staff")
    present = sensors.item_present
    # The session and the desk record the ending after queuing its event: an ending already
    # recorded (the crash came between) is found again, and its event queued again under the
    # same key, which the outbox keeps once.
    ended = inventory.ended_as(door) if item is None else None
    if purpose == PICKUP:
        if present:
            return found("not_taken")
        if (item is not None and inventory.collected(door)) or ended == COLLECTED:
            return found("collected")
        return found("empty")
    if purpose == LOAD:
        if item is not None and item.state == LOADING:
            if present:
                inventory.confirm_loaded(door)
                return found("loaded")
            inventory.abandon_loading(door)
            return found("load_abandoned")
        if item is not None and item.state == LOADED and present:
            return found("loaded")
        return found("to_staff" if present else "empty")
    if purpose == RETRIEVE:
        if present:
            return found("not_retrieved")
        if item is not None:
            inventory.retrieved(door)
        return found("retrieved")
    return found("closed")  # a test opening
