"""Every receipt and certificate job, in SQLite as durable as the outbox: what was sent
(a receipt by its tracking number, a certificate by its serial), whether it printed,
and whether the citizen was offered it again. A job that paper-out interrupted is offered for
reprint once, once the printer can print, to the citizen it belongs to; when they leave
without it, it is abandoned (staff are told) and never printed for the next citizen; a job
that was printing when the terminal stopped is abandoned at the next start. Only tracking
numbers are kept, no personal data."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from offline_queue import durable

PRINTING, PRINTED, INTERRUPTED, ABANDONED = "printing", "printed", "interrupted", "abandoned"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS print_jobs (
    id INTEGER PRIMARY KEY,
    tracking_no TEXT NOT NULL,
    state TEXT NOT NULL,
    reprints INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    document TEXT NOT NULL DEFAULT 'receipt'
);
CREATE INDEX IF NOT EXISTS print_jobs_tracking ON print_jobs(tracking_no);
"""


class PrintJournal:
    """`path` None keeps the journal in memory (scenes and unit tests)."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._conn = durable.connect(path, shared=True) if path is not None else \
            sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(print_jobs)")}
        if "document" not in columns:  # a journal from before certificates printed here
            self._conn.execute("ALTER TABLE print_jobs ADD COLUMN document TEXT NOT NULL"
                               " DEFAULT 'receipt'")

    def _latest(self, tracking_no: str) -> tuple[int, str, int] | None:
        row = self._conn.execute(
            "SELECT id, state, reprints FROM print_jobs WHERE tracking_no = ?"
            " ORDER BY id DESC LIMIT 1", (tracking_no,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), int(row[2]))

    def begin(self, tracking_no: str, now: float, document: str = "receipt") -> int:
        """A job is about to be sent: its id. The second job of a tracking number (or a
        certificate's serial) is its one reprint."""
        with self._lock, durable.write_transaction(self._conn) as conn:
            latest = self._latest(tracking_no)
            if latest is not None and latest[1] == INTERRUPTED:
                conn.execute("UPDATE print_jobs SET state = ?, reprints = reprints + 1,"
                             " updated_at = ? WHERE id = ?", (PRINTING, now, latest[0]))
                return latest[0]
            cur = conn.execute("INSERT INTO print_jobs (tracking_no, state, created_at,"
                               " updated_at, document) VALUES (?, ?, ?, ?, ?)",
                               (tracking_no, PRINTING, now, now, document))
            return int(cur.lastrowid or 0)

    def finish(self, job: int, printed: bool, now: float) -> None:
        with self._lock, durable.write_transaction(self._conn) as conn:
            conn.execute("UPDATE print_jobs SET state = ?, updated_at = ? WHERE id = ?",
                         (PRINTED if printed else INTERRUPTED, now, job))

    def may_reprint(self, tracking_no: str) -> bool:
        """Interrupted, and not reprinted yet: the one offer."""
        with self._lock:
            latest = self._latest(tracking_no)
        return latest is not None and latest[1] == INTERRUPTED and latest[2] == 0

    def abandon(self, tracking_no: str, now: float) -> bool:
        """The citizen left without the receipt: it is never printed later. True when a job
        was left unprinted."""
        with self._lock, durable.write_transaction(self._conn) as conn:
            cur = conn.execute("UPDATE print_jobs SET state = ?, updated_at = ?"
                               " WHERE tracking_no = ? AND state IN (?, ?)",
                               (ABANDONED, now, tracking_no, INTERRUPTED, PRINTING))
            return cur.rowcount > 0

    def abandon_unfinished(self, now: float) -> list[tuple[str, str]]:
        """At start: what was printing or interrupted when the terminal stopped is abandoned
        (its citizen is gone). What it was (receipt, certificate) and its number, for staff."""
        with self._lock, durable.write_transaction(self._conn) as conn:
            rows = conn.execute("SELECT document, tracking_no FROM print_jobs"
                                " WHERE state IN (?, ?)", (INTERRUPTED, PRINTING)).fetchall()
            conn.execute("UPDATE print_jobs SET state = ?, updated_at = ? WHERE state IN"
                         " (?, ?)", (ABANDONED, now, INTERRUPTED, PRINTING))
        return [(str(r[0]), str(r[1])) for r in rows]

    def state(self, tracking_no: str) -> str | None:
        with self._lock:
            latest = self._latest(tracking_no)
        return None if latest is None else latest[1]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
