"""What the staff console shows and does (screens/staff/ draws it; no Kivy here).

Shows: each device's status with its reason and how long it has been so; the alerts staff
must see (a device not ready: paper low or out, a cover open, a jam, a board or reader that
does not answer; compartments waiting for staff: a door that jammed or was left open, items
overdue; envelopes parked by the outbox and the age of the oldest still pending; the disk
nearly full). Does, each only for a signed-in role that `may`: paper replaced (the printer is
asked again), force sync, retry the parked envelopes, acknowledge an alert (it stays listed,
marked, until its cause is gone)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devices.fitted import DeviceSet
from kiosk.config.settings import Clock
from kiosk.locker.loading import DoorJob, LockerDesk
from kiosk.records.locker_store import NEEDS_STAFF, LockerInventory
from kiosk.staff.desk import StaffDesk

if TYPE_CHECKING:
    from kiosk.health.selftest import Report  # the self-test is run rarely: imported then

# Reasons a device reports that staff fix by hand, and what to call them on the console.
HANDS_ON = {"paper_low": "paper_low", "paper_out": "paper_out", "cover_open": "cover_open",
            "paper_jam": "paper_jam", "cutter_error": "paper_jam"}
# What each console action needs the signed-in role to `may` (the profile's [[staff]] may).
NEEDS = {"acknowledge": "view_queue", "paper_replaced": "replace_paper",
         "force_sync": "retry_queue", "retry_parked": "retry_queue",
         "load": "load_locker", "retrieve": "load_locker"}
OLDEST_PENDING_ALERT_S = 15 * 60  # an envelope waiting this long: the network needs a look
DISK_LOW_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class DeviceLine:
    name: str
    state: str
    reason: str
    message: str
    for_s: float  # how long it has been in this state


@dataclass(frozen=True)
class Alert:
    key: str  # stable while its cause lasts: kind and subject
    kind: str  # paper_low, paper_out, cover_open, paper_jam, device_down, needs_staff,
    #            door_jammed, door_left_open, overdue, parked, oldest_pending, disk_low
    subject: str  # the device, the compartment's door, or a count
    for_s: float | None
    acknowledged: bool = False


@dataclass(frozen=True)
class ParkedLine:
    """A parked envelope as staff see it: what kind, why, since when; never its payload."""

    id: int
    kind: str
    error: str
    age_s: float


@dataclass(frozen=True)
class QueueLine:
    pending: int
    parked: int
    oldest_pending_s: float | None
    online: bool | None


class StaffConsole:
    def __init__(self, desk: StaffDesk, devices: DeviceSet, outbox: Any, sync: Any,
                 inventory: LockerInventory, clock: Clock,
                 storage_free: Callable[[], int | None] = lambda: None,
                 door_left_open_s: float = 120.0, lockers: LockerDesk | None = None,
                 assignee: Callable[[str], str | None] = lambda no: None,
                 selftest: Callable[[], Report] | None = None) -> None:
        """`selftest()`: the terminal's self-test, run and kept (the technician's)."""
        self.desk, self._devices, self._outbox, self._sync = desk, devices, outbox, sync
        self._selftest = selftest
        self.last_selftest: Report | None = None
        self._inventory, self._clock, self._storage_free = inventory, clock, storage_free
        self._acknowledged: set[str] = set()
        self._left_open_s = door_left_open_s  # a door open this long was left open
        self.lockers, self._assignee = lockers, assignee  # loading: whose the item is

    def selftest(self) -> Report | None:
        """The self-test (a technician's: may diagnose), run now; None when not allowed. It
        takes seconds (a test receipt, camera frames): call it off the UI thread."""
        if self._selftest is None or not self.desk.act("diagnose", "selftest"):
            return None
        self.last_selftest = self._selftest()
        return self.last_selftest

    # ------------------------------------------------------------------ what is shown
    def devices(self) -> list[DeviceLine]:
        now = self._clock.now()
        lines = []
        for worker in self._devices:
            report = worker.report()
            s = report.status
            lines.append(DeviceLine(worker.name, s.state.value, s.reason, s.message,
                                    max(0.0, now - report.since)))
        return lines

    def queue(self) -> QueueLine:
        stats = self._outbox.stats()
        return QueueLine(stats.pending + stats.in_flight, stats.parked,
                         stats.oldest_pending_age_s, getattr(self._sync, "online", None))

    def parked(self, limit: int = 10) -> list[ParkedLine]:
        now = self._clock.wall()
        return [ParkedLine(e.id, e.kind, (e.last_error or "")[:120], max(0.0, now - e.created_at))
                for e in self._outbox.list("parked", limit=limit)]

    def alerts(self) -> list[Alert]:
        now = self._clock.wall()
        found: list[Alert] = []
        for line in self.devices():
            if line.state == "ready":
                continue
            kind = HANDS_ON.get(line.reason, "device_down")
            found.append(Alert(f"{kind}:{line.name}", kind, line.name, line.for_s))
        for item in self._inventory.items():
            label = str(item.door)
            if item.state == NEEDS_STAFF:
                found.append(Alert(f"needs_staff:{label}", "needs_staff", label, None))
            elif item.due_at < now:
                found.append(Alert(f"overdue:{label}", "overdue", label, now - item.due_at))
        for trouble, door in self._inventory.door_troubles(now, self._left_open_s):
            kind = f"door_{trouble}"
            found.append(Alert(f"{kind}:{door}", kind, str(door), None))
        queue = self.queue()
        if queue.parked:
            found.append(Alert("parked", "parked", str(queue.parked), None))
        if queue.oldest_pending_s is not None and \
                queue.oldest_pending_s > OLDEST_PENDING_ALERT_S:
            found.append(Alert("oldest_pending", "oldest_pending", str(queue.pending),
                               queue.oldest_pending_s))
        free = self._storage_free()
        if free is not None and free < DISK_LOW_BYTES:
            found.append(Alert("disk_low", "disk_low", f"{free // 1024**2} MB", None))
        keys = {a.key for a in found}
        self._acknowledged &= keys  # a cause gone and back is a new alert
        return [Alert(a.key, a.kind, a.subject, a.for_s, a.key in self._acknowledged)
                for a in found]

    # ------------------------------------------------------------------ what is done
    def acknowledge(self, key: str) -> bool:
        if not self.desk.act(NEEDS["acknowledge"], f"acknowledged:{key.split(':')[0]}"):
            return False
        self._acknowledged.add(key)
        return True

    def paper_replaced(self, device: str) -> bool:
        """Staff loaded paper (or shut the cover): the printer is asked at once."""
        worker = next((w for w in self._devices if w.name == device), None)
        if worker is None or not self.desk.act(NEEDS["paper_replaced"], "paper_replaced"):
            return False
        worker.refresh()
        return True

    def force_sync(self) -> bool:
        if not self.desk.act(NEEDS["force_sync"], "force_sync"):
            return False
        self._outbox.due_now()
        self._sync.notify()
        return True

    def retry(self, envelope_id: int) -> bool:
        """One parked envelope due again now (after its cause was fixed)."""
        if not self.desk.act(NEEDS["retry_parked"], "retry_envelope"):
            return False
        done = bool(self._outbox.unpark(envelope_id))
        self._sync.notify()
        return done

    def retry_parked(self) -> int | None:
        """The parked envelopes due again now; None when the role may not."""
        if not self.desk.act(NEEDS["retry_parked"], "retry_parked"):
            return None
        count = int(self._outbox.unpark_all())
        self._sync.notify()
        return count

    # ------------------------------------------------------------------ the locker
    def load(self, application_no: str) -> DoorJob | None:
        """Staff load an item by its application number: the back office says whose it is, a
        free compartment opens, and once the door is shut on it, it is recorded (see
        kiosk/locker/loading.py). Blocks until the door is shut or the wait is over: call off
        the UI thread. None when the role may not; a DoorJob saying why otherwise."""
        if self.lockers is None or not self.desk.act(NEEDS["load"], "locker_load"):
            return None
        number = application_no.strip()
        whose = self._assignee(number) if number else None
        if whose is None:
            return DoorJob(False, None, "unknown_application")
        return self.lockers.load(number, "证照", "Certificate", whose)

    def retrieve(self, door: int) -> DoorJob | None:
        """Staff take an item out (overdue, or waiting for staff); blocks like `load`."""
        if self.lockers is None or not self.desk.act(NEEDS["retrieve"], "locker_retrieve"):
            return None
        return self.lockers.retrieve(door)
