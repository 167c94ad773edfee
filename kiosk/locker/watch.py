"""Keeps the locker's door intents settled: at start (what a crash left open) and then while
any stay open (a door left open, a board that did not answer), never touching the door of
the citizen at the screen; and takes the back office's pickup codes for the items inside, so
that a pickup by code works when the back office is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from devices.locker.protocol import DoorState, Locker
from devices.worker import DeviceWorker
from kiosk.config.settings import Clock
from kiosk.locker.reconcile import Finding, reconcile
from kiosk.records.audit import AuditLog
from kiosk.records.locker_store import DoorIntent, LockerInventory
from kiosk.records.submission import EnvelopeSink

log = logging.getLogger(__name__)


class LockerWatch:
    def __init__(self, inventory: LockerInventory, locker: DeviceWorker[Locker], *,
                 sink: EnvelopeSink, audit: AuditLog, terminal_id: str, clock: Clock,
                 call_timeout_s: float, interval_s: float,
                 in_use: Callable[[], int | None] = lambda: None,
                 staff_at: Callable[[], int | None] = lambda: None,
                 pickup_codes: Callable[[], Mapping[str, str] | None] = lambda: None) -> None:
        self._inventory, self._locker = inventory, locker
        self._sink, self._audit, self._terminal_id, self._clock = sink, audit, terminal_id, clock
        self._call_timeout_s, self._interval_s = call_timeout_s, interval_s
        self._in_use = in_use  # the live session's door intent, left to the session
        self._staff_at = staff_at  # the intent staff are loading or retrieving at, theirs
        self._pickup_codes = pickup_codes  # the back office's codes for the items here
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[Finding]:
        """One pass: read every door (only when some intent is open) and settle what can be."""
        before = {i.id: i.door for i in self._inventory.unresolved()}
        live = {self._in_use(), self._staff_at()}
        if not set(before) - live:
            return []
        empty: dict[int, DoorState | None] = {}
        states = self._locker.call(lambda lk: lk.door_states(), empty,
                                   timeout_s=self._call_timeout_s, what="door states").value
        # Only what was open before the reading (an intent the session made meanwhile is its
        # own), and nothing on the door of the citizen at the screen, then or now.
        live |= {self._in_use(), self._staff_at()}
        busy = {before[i] for i in live if i in before} | {
            i.door for i in self._inventory.unresolved() if i.id in live}

        def skip(intent: DoorIntent) -> bool:
            return intent.id not in before or intent.id in live or intent.door in busy

        findings = reconcile(self._inventory, states, sink=self._sink, audit=self._audit,
                             terminal_id=self._terminal_id, now=self._clock.wall(), skip=skip)
        for f in findings:
            log.info("locker door %d (%s): %s", f.door, f.purpose, f.outcome)
        return findings

    def take_pickup_codes(self) -> int:
        """The back office's codes for items that have none yet, kept as salted hashes only;
        how many were new."""
        waiting = {i.application_no for i in self._inventory.items() if not i.has_code}
        if not waiting:
            return 0
        codes = self._pickup_codes() or {}
        return sum(self._inventory.set_code(number, code)
                   for number, code in codes.items() if number in waiting)

    def start(self) -> list[Finding]:
        """Settle what a stop left open (before the first citizen), then watch; the findings."""
        findings = self.run_once()
        self._thread = threading.Thread(target=self._loop, name="locker-watch", daemon=True)
        self._thread.start()
        return findings

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.run_once()
                self.take_pickup_codes()
            except Exception:  # a broken pass must not end the watch
                log.exception("locker watch pass failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
