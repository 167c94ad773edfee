"""Pickup codes for certificates loaded into terminals' lockers: the reference back office's
side of 自助证照柜. When a terminal's `locker.loaded` event arrives (staff put a certificate in
a compartment), a six-digit pickup code is issued for it and "sent" to the citizen (the stand-in
for the SMS gateway keeps the message, `GET /v1/pickup-notices`); the terminal fetches the codes
for its own items (`GET /v1/lockers/{terminal}/pickup-codes`) and keeps them only as salted
hashes, so a pickup by code works when the back office is down. `locker.collected` retires the
code. Its table is in the back office's database (SQLite beside its other files, or the
PostgreSQL database its processes share); a code is unique among a terminal's waiting items
by a unique index, so two processes never hand out one twice.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from backoffice.db import Database, Tx
from backoffice.store import parse_json

DB_FILE = "lockers.sqlite3"
LOADED_EVENT, COLLECTED_EVENT = "locker.loaded", "locker.collected"
RETRIEVED_EVENT = "locker.retrieved"  # staff took it out: its code is retired too

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pickups (
    terminal_id TEXT NOT NULL, application_no TEXT NOT NULL, door INTEGER NOT NULL,
    code TEXT NOT NULL, issued_at REAL NOT NULL, collected_at REAL,
    PRIMARY KEY (terminal_id, application_no)
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_pickups_waiting_code ON pickups (terminal_id, code)
    WHERE collected_at IS NULL;
"""


class LockerOffice:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._db = db
        db.schema(_SCHEMA)

    def on_event(self, kind: str, payload: bytes) -> None:
        """A terminal's locker event, once accepted by the store."""
        try:
            doc = parse_json(payload)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        terminal, application = doc.get("terminal_id"), doc.get("application_no")
        if not isinstance(terminal, str) or not isinstance(application, str) or not application:
            return
        if kind == LOADED_EVENT and isinstance(doc.get("door"), int):
            self.loaded(terminal, application, int(doc["door"]))
        elif kind in (COLLECTED_EVENT, RETRIEVED_EVENT):
            self.collected(terminal, application)

    def loaded(self, terminal_id: str, application_no: str, door: int) -> str:
        """The pickup code for the item (the same one again for the same loading)."""
        def issue(tx: Tx) -> str:
            # A code another waiting item of the terminal has would open the other's door:
            # the unique index refuses it, and the transaction is tried with a new code.
            code = f"{secrets.randbelow(10**6):06d}"
            # Loaded again after it was collected or retrieved: a new code for the new item.
            tx.execute(
                "INSERT INTO pickups (terminal_id, application_no, door, code, issued_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (terminal_id, application_no) DO UPDATE"
                " SET door = excluded.door, code = excluded.code,"
                " issued_at = excluded.issued_at, collected_at = NULL"
                " WHERE pickups.collected_at IS NOT NULL",
                (terminal_id, application_no, door, code, self._clock()))
            row = tx.execute(
                "SELECT code FROM pickups WHERE terminal_id = ? AND application_no = ?",
                (terminal_id, application_no)).fetchone()
            return str(row[0])

        return self._db.run(issue)

    def collected(self, terminal_id: str, application_no: str) -> None:
        now = self._clock()
        self._db.run(lambda tx: tx.execute(
            "UPDATE pickups SET collected_at = ? WHERE terminal_id = ? AND"
            " application_no = ? AND collected_at IS NULL", (now, terminal_id, application_no)))

    def codes_for(self, terminal_id: str) -> list[dict[str, Any]]:
        """The codes of the terminal's items still waiting to be collected."""
        rows = self._db.query(
            "SELECT application_no, door, code FROM pickups WHERE terminal_id = ? AND"
            " collected_at IS NULL ORDER BY issued_at", (terminal_id,))
        return [{"application_no": a, "door": d, "pickup_code": c} for a, d, c in rows]

    def notice(self, application_no: str) -> dict[str, Any] | None:
        """What the SMS to the citizen said (the stand-in for the gateway)."""
        rows = self._db.query(
            "SELECT terminal_id, door, code FROM pickups WHERE application_no = ?"
            " ORDER BY issued_at DESC LIMIT 1", (application_no,))
        if not rows:
            return None
        terminal, door, code = rows[0]
        return {"application_no": application_no, "terminal_id": terminal, "door": door,
                "pickup_code": code,
                "text": f"您的证件已放入 {terminal} 自助证照柜，取件码 {code}。"}
