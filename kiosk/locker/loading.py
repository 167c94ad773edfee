"""Staff loading a certificate into the locker, and taking one out: a free compartment of the
right size is chosen, the door intent journaled, the door opened once, and the result is
what the door and item sensors say when the door closes: an item seen inside is loaded (and
the back office told, which sends the citizen a pickup code), an empty compartment is not. A
door that does not open is reported, never re-driven; one left open stays journaled for the
locker watch to settle.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from devices.locker.protocol import DoorOutcome, DoorState, Locker
from devices.locker.rs485.config import Compartment
from devices.worker import DeviceWorker
from kiosk.config.settings import Clock
from kiosk.locker.layout import pick_free
from kiosk.records.audit import AuditLog
from kiosk.records.locker_store import RETRIEVE, LockerInventory
from kiosk.records.submission import EnvelopeSink, queue_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DoorJob:
    ok: bool
    door: int | None
    outcome: str  # loaded, retrieved, jammed, no_free_compartment, left_open, ...
    label: str = ""


@dataclass
class LockerDesk:
    """What loading and retrieval need: the locker behind its worker and the records."""

    locker: DeviceWorker[Locker]
    inventory: LockerInventory
    sink: EnvelopeSink
    audit: AuditLog
    clock: Clock
    terminal_id: str
    layout: tuple[Compartment, ...]
    call_timeout_s: float = 6.0
    close_wait_s: float = 120.0
    poll_s: float = 0.5
    busy: int | None = None  # the door intent staff are at now (the terminal's watch keeps off)

    def label(self, door: int) -> str:
        return next((c.label for c in self.layout if c.number == door), str(door))

    def _event(self, kind: str, body: dict[str, object], key: str) -> bool:
        """False when the outbox cannot take it (a full disk): the ending is then left to the
        reconciliation, which queues it under the same key."""
        try:
            queue_event(self.sink, kind, {"terminal_id": self.terminal_id,
                                          "at": self.clock.wall(), **body}, key=key)
        except Exception:
            log.exception("could not queue %s", kind)
            return False
        return True

    def _open(self, door: int, purpose: str, application_no: str) -> tuple[int, DoorOutcome]:
        intent = self.inventory.intend(door, purpose, application_no, self.clock.wall())
        self.busy = intent
        return intent, self._unlock(door, intent)

    def _unlock(self, door: int, intent: int) -> DoorOutcome:
        outcome = self.locker.call(lambda lk: lk.open_door(door), DoorOutcome.FAULT,
                                   timeout_s=self.call_timeout_s, what=f"open door {door}").value
        self.inventory.door_answered(intent, outcome is DoorOutcome.OPENED)
        if outcome is not DoorOutcome.OPENED:
            self.inventory.resolve(intent, outcome.value, self.clock.wall())
            self.audit.record("locker_door_failed", door=door, outcome=outcome.value)
            if outcome is DoorOutcome.JAMMED:
                self._event("locker.door_jammed", {"door": door},
                            self.inventory.event_key("jammed", intent))
        return outcome

    def _closed(self, door: int) -> DoorState | None:
        """The sensors once the door is closed; None if it stays open past the wait (or the
        board stops answering)."""
        deadline = time.monotonic() + self.close_wait_s
        while time.monotonic() < deadline:
            sensors = self.locker.call(lambda lk: lk.door_state(door), None,
                                       timeout_s=self.call_timeout_s,
                                       what=f"door {door} sensors").value
            if sensors is not None and not sensors.is_open:
                return sensors
            time.sleep(self.poll_s)
        return None

    def load(self, application_no: str, title_zh: str, title_en: str, id_number: str, *,
             size: str = "medium", keep_s: float = 30 * 86400) -> DoorJob:
        try:
            return self._load(application_no, title_zh, title_en, id_number, size=size,
                              keep_s=keep_s)
        finally:
            self.busy = None

    def retrieve(self, door: int) -> DoorJob:
        try:
            return self._retrieve(door)
        finally:
            self.busy = None

    def _load(self, application_no: str, title_zh: str, title_en: str, id_number: str, *,
              size: str = "medium", keep_s: float = 30 * 86400) -> DoorJob:
        # A door whose lock jammed is not offered again until someone has opened it since.
        door = pick_free(self.layout, self.inventory.occupied() | self.inventory.jammed_doors(),
                         size)
        if door is None:
            return DoorJob(False, None, "no_free_compartment")
        intent = self.inventory.begin_loading_intent(door, application_no, title_zh, title_en,
                                                     id_number, now=self.clock.wall(),
                                                     keep_s=keep_s)
        self.busy = intent
        outcome = self._unlock(door, intent)
        if outcome is not DoorOutcome.OPENED:
            self.inventory.abandon_loading(door)
            return DoorJob(False, door, outcome.value, self.label(door))
        sensors = self._closed(door)
        if sensors is None:  # left open: the watch settles it once the door is closed
            return DoorJob(False, door, "left_open", self.label(door))
        now = self.clock.wall()
        if sensors.item_present or not sensors.item_known:
            # The event first, keyed by the intent (see reconcile: a crash on either side
            # of it ends in exactly one).
            if not self._event("locker.loaded", {"door": door,
                                                 "application_no": application_no},
                               self.inventory.event_key("loaded", intent)):
                return DoorJob(False, door, "not_recorded_yet", self.label(door))
            self.inventory.confirm_loaded(door)
            self.inventory.resolve(intent, "loaded", now)
            self.audit.record("locker_item_loaded", door=door)
            return DoorJob(True, door, "loaded", self.label(door))
        self.inventory.abandon_loading(door)
        self.inventory.resolve(intent, "load_abandoned", now)
        return DoorJob(False, door, "nothing_put_in", self.label(door))

    def _retrieve(self, door: int) -> DoorJob:
        item = self.inventory.item(door)
        if item is None:
            return DoorJob(False, door, "empty", self.label(door))
        intent, outcome = self._open(door, RETRIEVE, item.application_no)
        if outcome is not DoorOutcome.OPENED:
            return DoorJob(False, door, outcome.value, self.label(door))
        sensors = self._closed(door)
        if sensors is None:
            return DoorJob(False, door, "left_open", self.label(door))
        now = self.clock.wall()
        if sensors.item_present:
            self.inventory.resolve(intent, "not_retrieved", now)
            return DoorJob(False, door, "still_inside", self.label(door))
        if not self._event("locker.retrieved", {"door": door,
                                                "application_no": item.application_no},
                           self.inventory.event_key("retrieved", intent)):
            return DoorJob(False, door, "not_recorded_yet", self.label(door))
        self.inventory.retrieved(door)
        self.inventory.resolve(intent, "retrieved", now)
        self.audit.record("locker_item_retrieved", door=door)
        return DoorJob(True, door, "retrieved", self.label(door))
