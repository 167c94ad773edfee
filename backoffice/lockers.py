"""Pickup codes for certificates loaded into terminals' lockers: the reference back office's
side of 自助证照柜. When a terminal's `locker.loaded` event arrives (staff put a certificate in
a compartment), a six-digit pickup code is issued for it and "sent" to the citizen (the stand-in
for the SMS gateway keeps the message, `GET /v1/pickup-notices`); the terminal fetches the codes
for its own items (`GET /v1/lockers/{terminal}/pickup-codes`) and keeps them only as salted
hashes, so a pickup by code works when the back office is down. `locker.collected` retires the
code. The store is SQLite, 0600, beside the other files of the back office.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backoffice.db import open_private
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
"""


class LockerOffice:
    def __init__(self, data_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = open_private(data_dir / DB_FILE, _SCHEMA)

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
        code = f"{secrets.randbelow(10**6):06d}"
        with self._lock:
            waiting = {r[0] for r in self._conn.execute(
                "SELECT code FROM pickups WHERE terminal_id = ? AND collected_at IS NULL",
                (terminal_id,))}
            while code in waiting:  # two items with one code: one opens the other's door
                code = f"{secrets.randbelow(10**6):06d}"
            # Loaded again after it was collected or retrieved: a new code for the new item.
            self._conn.execute(
                "INSERT INTO pickups (terminal_id, application_no, door, code, issued_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET door = excluded.door,"
                " code = excluded.code, issued_at = excluded.issued_at, collected_at = NULL"
                " WHERE collected_at IS NOT NULL",
                (terminal_id, application_no, door, code, self._clock()))
            row = self._conn.execute(
                "SELECT code FROM pickups WHERE terminal_id = ? AND application_no = ?",
                (terminal_id, application_no)).fetchone()
        return str(row[0])

    def collected(self, terminal_id: str, application_no: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE pickups SET collected_at = ? WHERE terminal_id = ? AND"
                " application_no = ? AND collected_at IS NULL",
                (self._clock(), terminal_id, application_no))

    def codes_for(self, terminal_id: str) -> list[dict[str, Any]]:
        """The codes of the terminal's items still waiting to be collected."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT application_no, door, code FROM pickups WHERE terminal_id = ? AND"
                " collected_at IS NULL ORDER BY issued_at", (terminal_id,)).fetchall()
        return [{"application_no": a, "door": d, "pickup_code": c} for a, d, c in rows]

    def notice(self, application_no: str) -> dict[str, Any] | None:
        """What the SMS to the citizen said (the stand-in for the gateway)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT terminal_id, door, code FROM pickups WHERE application_no = ?"
                " ORDER BY issued_at DESC LIMIT 1", (application_no,)).fetchone()
        if row is None:
            return None
        terminal, door, code = row
        return {"application_no": application_no, "terminal_id": terminal, "door": door,
                "pickup_code": code,
                "text": f"您的证件已放入 {terminal} 自助证照柜，取件码 {code}。"}

    def close(self) -> None:
        with self._lock:
            self._conn.close()
