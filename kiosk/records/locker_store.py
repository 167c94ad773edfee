"""Which locker door holds whose certificate, in SQLite as durable as the outbox (WAL,
synchronous=FULL, explicit write transactions): a power cut forgets nothing that was loaded
or collected. The door journal of the locker work will live in the same database.

Citizens are stored only as the hash of their ID number. Staff loading adds items; a
confirmed collection removes one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from offline_queue import durable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockerItem:
    door: int
    citizen_hash: str
    title_zh: str
    title_en: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS locker_items (
    door INTEGER PRIMARY KEY,
    citizen_hash TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS locker_items_citizen ON locker_items(citizen_hash);
"""


class LockerInventory:
    """`path` None keeps the inventory in memory (scenes and unit tests)."""

    def __init__(self, path: Path | None) -> None:
        self._memory: dict[int, LockerItem] | None = {} if path is None else None
        self._lock = threading.Lock()
        self._db = durable.ThreadConnections(path) if path is not None else None
        if self._db is not None:
            self._db.get().executescript(_SCHEMA)
            self._import_json(self._db.path.with_suffix(".json"))

    def _import_json(self, legacy: Path) -> None:
        """Earlier versions kept the inventory in locker.json: take it over once."""
        if not legacy.is_file():
            return
        try:
            rows = [LockerItem(**raw) for raw in json.loads(legacy.read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError) as e:
            log.error("%s cannot be read (%s); left where it is for staff", legacy, e)
            return
        with durable.write_transaction(self._conn()) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO locker_items VALUES (?, ?, ?, ?)",
                [(i.door, i.citizen_hash, i.title_zh, i.title_en) for i in rows])
        legacy.rename(legacy.with_suffix(".json.imported"))
        log.info("locker inventory: %d items taken over from %s", len(rows), legacy)

    def _conn(self) -> sqlite3.Connection:
        assert self._db is not None
        return self._db.get()

    def items(self) -> list[LockerItem]:
        if self._memory is not None:
            with self._lock:
                return sorted(self._memory.values(), key=lambda i: i.door)
        rows = self._conn().execute("SELECT door, citizen_hash, title_zh, title_en "
                                    "FROM locker_items ORDER BY door").fetchall()
        return [LockerItem(*r) for r in rows]

    def for_citizen(self, citizen_hash: str) -> list[LockerItem]:
        return [i for i in self.items() if i.citizen_hash == citizen_hash]

    def load(self, item: LockerItem) -> None:
        if self._memory is not None:
            with self._lock:
                self._memory[item.door] = item
            return
        with durable.write_transaction(self._conn()) as conn:
            conn.execute("INSERT OR REPLACE INTO locker_items VALUES (?, ?, ?, ?)",
                         (item.door, item.citizen_hash, item.title_zh, item.title_en))

    def collected(self, door: int) -> None:
        if self._memory is not None:
            with self._lock:
                self._memory.pop(door, None)
            return
        with durable.write_transaction(self._conn()) as conn:
            conn.execute("DELETE FROM locker_items WHERE door = ?", (door,))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
