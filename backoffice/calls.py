"""Calls for help: a citizen at a terminal pressed 呼叫工作人员.

The terminal sends the call through its outbox as a `staff.call` event (so it survives a
network cut), named by its own idempotency key; once accepted here it is an open call with the
terminal, the screen the citizen is on and how long they had been on it, written with its
envelope in one transaction. Staff list the open
calls (`GET /v1/calls`, oldest first, with how long each has waited) and take one
(`POST /v1/calls/{key}/take`); the terminal asks after its call (`GET /v1/calls/{key}`) and
tells the citizen someone is on the way only once it has been taken. A call holds no personal
data: a terminal, a screen name, seconds, and who of the staff took it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from backoffice.db import Database, Tx, insert_returning

CALL_EVENT = "staff.call"
STATUSES = ("open", "taken")
# A screen is a session state's name (attract, identify, fill, ...).
_SCREEN = re.compile(r"[a-z_]{1,40}")
_STAFF = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    idempotency_key TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, screen TEXT NOT NULL,
    waited_s REAL NOT NULL, called_at REAL NOT NULL, received_at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'taken')), taken_by TEXT, taken_at REAL);
CREATE INDEX IF NOT EXISTS idx_calls_status ON calls (status, called_at);
"""
_COLUMNS = ("idempotency_key", "terminal_id", "screen", "waited_s", "called_at", "received_at",
            "status", "taken_by", "taken_at")

TakeOutcome = Literal["taken", "unknown", "already_taken"]


class BadCall(ValueError):
    """A staff.call payload off the contract; the message names the field."""


def call_fields(doc: dict[str, Any]) -> tuple[str, str, float, float]:
    """(terminal_id, screen, waited_s, at) of a staff.call payload, or BadCall (an event
    from a terminal that did not say waited_s counts as 0 s waited)."""
    terminal, screen, at = doc.get("terminal_id"), doc.get("screen"), doc.get("at")
    if not isinstance(terminal, str) or not terminal.strip():
        raise BadCall("field 'terminal_id' is missing or not a non-empty string")
    if not isinstance(screen, str) or not _SCREEN.fullmatch(screen):
        raise BadCall("field 'screen' must be a screen's name (1 to 40 of a-z and _)")
    waited = doc.get("waited_s", 0.0)
    for name, number in (("at", at), ("waited_s", waited)):
        if isinstance(number, bool) or not isinstance(number, int | float) \
                or not math.isfinite(number) or number < 0:
            raise BadCall(f"field {name!r} must be a finite number of seconds, not negative")
    assert isinstance(at, int | float) and isinstance(waited, int | float)
    return terminal, screen, float(waited), float(at)


def insert_calls(tx: Tx, calls: Sequence[tuple[str, tuple[str, str, float, float]]],
                 now: float) -> None:
    """Open calls for (idempotency_key, call_fields) pairs, inside the store's transaction
    that writes their envelopes: no call accepted and then lost."""
    insert_returning(
        tx, "INSERT INTO calls(idempotency_key, terminal_id, screen, waited_s, called_at,"
        " received_at, status)",
        [(key, terminal, screen, waited, at, now, "open")
         for key, (terminal, screen, waited, at) in calls],
        "ON CONFLICT DO NOTHING RETURNING idempotency_key")


def staff_problem(staff: object) -> str | None:
    """Why `staff` cannot take a call, or None."""
    if not isinstance(staff, str) or not _STAFF.fullmatch(staff):
        return "field 'staff' must be a staff number: 1 to 64 of A-Z, a-z, 0-9, _, . and -"
    return None


class CallsOffice:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        db.schema(_SCHEMA)

    def calls(self, status: str | None = "open") -> list[dict[str, Any]]:
        """Calls oldest first, each with age_s: how long the citizen has waited since the
        call (and waited_s: how long they had been on that screen before it)."""
        where, params = ("", ()) if status is None else (" WHERE status = ?", (status,))
        rows = self._db.query(f"SELECT {', '.join(_COLUMNS)} FROM calls{where}"
                              " ORDER BY called_at, idempotency_key", params)
        return [self._record(row) for row in rows]

    def call(self, key: str) -> dict[str, Any] | None:
        rows = self._db.query(f"SELECT {', '.join(_COLUMNS)} FROM calls"
                              " WHERE idempotency_key = ?", (key,))
        return self._record(rows[0]) if rows else None

    def take(self, key: str, staff: str) -> tuple[TakeOutcome, dict[str, Any] | None]:
        """One member of staff takes an open call; a second is told who has it."""
        now = self._clock()
        taken: list[int] = []

        def claim(tx: Any) -> None:
            taken.clear()
            cursor = tx.execute("UPDATE calls SET status = 'taken', taken_by = ?, taken_at = ?"
                                " WHERE idempotency_key = ? AND status = 'open'",
                                (staff, now, key))
            taken.append(cursor.rowcount)

        self._db.run(claim)
        record = self.call(key)
        if record is None:
            return "unknown", None
        return ("taken" if taken and taken[0] == 1 else "already_taken"), record

    def _record(self, row: tuple[Any, ...]) -> dict[str, Any]:
        record = dict(zip(_COLUMNS, row, strict=True))
        end = record["taken_at"] if record["taken_at"] is not None else self._clock()
        record["age_s"] = round(max(0.0, end - record["called_at"]), 1)
        return record
