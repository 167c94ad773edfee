"""What is in the certificate locker, and every door the terminal meant to open, in SQLite as
durable as the outbox (WAL, synchronous=FULL, explicit write transactions): a power cut or a
kill -9 forgets nothing that was loaded, opened or collected.

A compartment's item is kept with no plain personal data: the assignee's ID number and the
pickup code are kept only as salted scrypt hashes (a fresh salt each) of their HMAC under a
key derived from the terminal's citizen-hash key (kiosk/records/citizen_key.py), so the file
gives away whose certificate is inside neither to a search of ID numbers nor of codes without
the key; a pickup code or ID number is checked by hashing what the citizen presents with each
item's salt. A store opened with another key than the one it was made with refuses to open.

Every door-opening intent (a pickup, a loading, a retrieval, a test) is journaled before the
command goes to the board, and resolved once the door and item sensors say how it ended. At
start the terminal reconciles the intents left open with the sensors (kiosk/locker/reconcile.py):
an item is recorded as collected only when its door was seen closed on an empty compartment;
what cannot be resolved goes to staff.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kiosk.records.citizen_key import CitizenKey
from offline_queue import durable

log = logging.getLogger(__name__)

# scrypt at n = 2^12 takes a few milliseconds: a citizen's card is checked against a full
# locker in well under a second, and each guess at a stolen file costs the same per item.
SCRYPT = {"n": 2**12, "r": 8, "p": 1, "dklen": 32}
SALT_BYTES = 16

LOADING, LOADED, NEEDS_STAFF = "loading", "loaded", "needs_staff"  # inside, or being put in
COLLECTED, RETRIEVED = "collected", "retrieved"
PICKUP, LOAD, RETRIEVE, TEST = "pickup", "load", "retrieve", "test"
PURPOSES = (PICKUP, LOAD, RETRIEVE, TEST)


def salted_hash(pepper: bytes, secret: str, salt: bytes) -> bytes:
    """A pickup code or an ID number, normalised (spaces, case), keyed, under its item's
    salt."""
    normal = "".join(secret.split()).upper().encode()
    keyed = hmac.new(pepper, normal, hashlib.sha256).digest()
    return hashlib.scrypt(keyed, salt=salt, **SCRYPT)


def _key_check(pepper: bytes) -> str:
    return hmac.new(pepper, b"locker key check", hashlib.sha256).hexdigest()


class LockerKeyMismatch(ValueError):
    """The store's hashes were made under another citizen-hash key."""


@dataclass(frozen=True)
class LockerItem:
    door: int  # the compartment's number
    application_no: str  # what staff scanned when loading it (no personal data)
    title_zh: str
    title_en: str
    loaded_at: float
    due_at: float  # overdue after this: listed for staff to retrieve
    state: str = LOADED
    has_code: bool = False  # the back office's pickup code for it has arrived


@dataclass(frozen=True)
class DoorIntent:
    id: int
    door: int
    purpose: str  # pickup | load | retrieve | test
    application_no: str
    at: float
    opened: bool | None  # None: the terminal stopped before the board's answer was recorded


_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    door INTEGER PRIMARY KEY,
    application_no TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    assignee_salt BLOB,
    assignee_hash BLOB,
    code_salt BLOB,
    code_hash BLOB,
    loaded_at REAL NOT NULL,
    due_at REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_application ON items(application_no);
CREATE TABLE IF NOT EXISTS door_intents (
    id INTEGER PRIMARY KEY,
    door INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    application_no TEXT NOT NULL,
    at REAL NOT NULL,
    opened INTEGER,
    resolved_at REAL,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS door_intents_open ON door_intents(resolved_at);
CREATE TABLE IF NOT EXISTS code_failures (id INTEGER PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_ITEM = ("door, application_no, title_zh, title_en, loaded_at, due_at, state,"
         " code_hash IS NOT NULL")


class LockerInventory:
    """`path` None keeps everything in memory (scenes and unit tests); `key` None is a key
    of this process alone (only for a store in memory, or one never asked to hash)."""

    def __init__(self, path: Path | None, key: CitizenKey | None = None) -> None:
        self._pepper = (key or CitizenKey.random()).pepper("locker")
        self._keyed = key is not None or path is None
        self._lock = threading.RLock()
        self._memory = sqlite3.connect(":memory:", isolation_level=None,
                                       check_same_thread=False) if path is None else None
        self._db = durable.ThreadConnections(path) if path is not None else None
        self._conn().executescript(_SCHEMA)
        with self._write() as w:
            w.execute("INSERT OR IGNORE INTO meta VALUES ('id', ?)", (os.urandom(6).hex(),))
            self._id = str(w.execute("SELECT value FROM meta WHERE name = 'id'").fetchone()[0])
            if self._keyed:
                w.execute("INSERT OR IGNORE INTO meta VALUES ('key_check', ?)",
                          (_key_check(self._pepper),))
                stored = w.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
                if not hmac.compare_digest(str(stored[0]), _key_check(self._pepper)):
                    raise LockerKeyMismatch(
                        f"{path}: the locker's items were stored under another citizen-hash"
                        " key (the terminal was enrolled again?); staff must retrieve them")
        if path is not None:
            path.chmod(0o600)
            self._take_over_old_items()

    def _hash(self, secret: str) -> tuple[bytes, bytes]:
        if not self._keyed:
            raise RuntimeError("this locker store was opened without the citizen-hash key")
        salt = os.urandom(SALT_BYTES)
        return salt, salted_hash(self._pepper, secret, salt)

    def _matches(self, secret: str, salt: bytes | None, digest: bytes | None) -> bool:
        return self._keyed and salt is not None and digest is not None and \
            hmac.compare_digest(salted_hash(self._pepper, secret, salt), digest)

    def _conn(self) -> sqlite3.Connection:
        if self._memory is not None:
            return self._memory
        assert self._db is not None
        return self._db.get()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, durable.write_transaction(self._conn()) as conn:
            yield conn

    def _take_over_old_items(self) -> None:
        """Earlier versions kept a plain hash of the assignee's ID number (`locker_items`):
        those items cannot be matched any more, so they go to staff, who retrieve them."""
        conn = self._conn()
        old = conn.execute("SELECT name FROM sqlite_master WHERE name = 'locker_items'")
        if old.fetchone() is None:
            return
        with self._write() as w:
            rows = w.execute("SELECT door, title_zh, title_en FROM locker_items").fetchall()
            w.executemany("INSERT OR IGNORE INTO items (door, application_no, title_zh,"
                          " title_en, loaded_at, due_at, state) VALUES (?, '', ?, ?, 0, 0, ?)",
                          [(*r, NEEDS_STAFF) for r in rows])
            w.execute("DROP TABLE locker_items")
        log.warning("locker: %d items from an older version go to staff to retrieve",
                    len(rows))

    # ---------------------------------------------------------------- items
    def _rows(self, where: str = "", args: tuple[object, ...] = ()) -> list[LockerItem]:
        with self._lock:
            rows = self._conn().execute(f"SELECT {_ITEM} FROM items {where} ORDER BY door",
                                        args).fetchall()
        return [LockerItem(int(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]),
                           float(r[5]), str(r[6]), has_code=bool(r[7])) for r in rows]

    def items(self) -> list[LockerItem]:
        """What is recorded inside: loaded items and those waiting for staff."""
        return self._rows("WHERE state IN (?, ?)", (LOADED, NEEDS_STAFF))

    def item(self, door: int, *, include_loading: bool = False) -> LockerItem | None:
        states = (LOADED, NEEDS_STAFF, LOADING if include_loading else LOADED)
        found = self._rows("WHERE door = ? AND state IN (?, ?, ?)", (door, *states))
        return found[0] if found else None

    def ended_as(self, door: int) -> str | None:
        """How the compartment's last item left (collected, retrieved), if it did."""
        with self._lock:
            row = self._conn().execute("SELECT state FROM items WHERE door = ? AND state IN"
                                       " (?, ?)", (door, COLLECTED, RETRIEVED)).fetchone()
        return None if row is None else str(row[0])

    def occupied(self) -> set[int]:
        """Compartments not free for loading: something is, or is being put, inside."""
        with self._lock:
            return {int(r[0]) for r in self._conn().execute(
                "SELECT door FROM items WHERE state IN (?, ?, ?)",
                (LOADED, NEEDS_STAFF, LOADING))}

    def overdue(self, now: float) -> list[LockerItem]:
        return [i for i in self.items() if i.state == NEEDS_STAFF or i.due_at <= now]

    def begin_loading(self, door: int, application_no: str, title_zh: str, title_en: str,
                      id_number: str, *, now: float, keep_s: float) -> LockerItem:
        """Before the door opens for staff to put an item in: the item for the citizen whose
        ID number this is, kept until `keep_s` from now, once its door is seen closed on it
        (`confirm_loaded`)."""
        return self._insert(door, application_no, title_zh, title_en, id_number, now, keep_s,
                            LOADING)[0]

    def begin_loading_intent(self, door: int, application_no: str, title_zh: str,
                             title_en: str, id_number: str, *, now: float,
                             keep_s: float) -> int:
        """`begin_loading` and the door's loading intent in one transaction (a crash between
        them would leave a compartment taken by nothing anyone can see): the intent."""
        return self._insert(door, application_no, title_zh, title_en, id_number, now, keep_s,
                            LOADING, intend=True)[1]

    def load(self, door: int, application_no: str, title_zh: str, title_en: str,
             id_number: str, *, now: float, keep_s: float) -> LockerItem:
        """An item already seen inside (the demo's seed, tests): loaded at once."""
        return self._insert(door, application_no, title_zh, title_en, id_number, now, keep_s,
                            LOADED)[0]

    def _insert(self, door: int, application_no: str, title_zh: str, title_en: str,
                id_number: str, now: float, keep_s: float, state: str,
                intend: bool = False) -> tuple[LockerItem, int]:
        salt, digest = self._hash(id_number)
        with self._write() as w:
            if w.execute("SELECT 1 FROM items WHERE door = ? AND state IN (?, ?, ?)",
                         (door, LOADED, NEEDS_STAFF, LOADING)).fetchone():
                raise ValueError(f"compartment {door} is not empty")
            w.execute("DELETE FROM items WHERE door = ?", (door,))  # an old, finished one
            w.execute("INSERT INTO items (door, application_no, title_zh, title_en,"
                      " assignee_salt, assignee_hash, loaded_at, due_at, state)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (door, application_no, title_zh, title_en, salt, digest, now,
                       now + keep_s, state))
            intent = self._intend(w, door, LOAD, application_no, now) if intend else 0
        return LockerItem(door, application_no, title_zh, title_en, now, now + keep_s,
                          state), intent

    def confirm_loaded(self, door: int) -> bool:
        """Its door was seen closed on the item: citizens can collect it now."""
        with self._write() as w:
            cur = w.execute("UPDATE items SET state = ? WHERE door = ? AND state = ?",
                            (LOADED, door, LOADING))
            return cur.rowcount > 0

    def abandon_loading(self, door: int) -> bool:
        """Its door closed on an empty compartment: nothing was put in."""
        with self._write() as w:
            cur = w.execute("DELETE FROM items WHERE door = ? AND state = ?", (door, LOADING))
            return cur.rowcount > 0

    def set_code(self, application_no: str, code: str) -> bool:
        """The back office's pickup code for an item: kept as a salted hash only. A code
        another item here already answers to is refused (it would open the wrong door)."""
        other = self.for_code(code)
        if other is not None and other.application_no != application_no:
            log.error("locker: the pickup code for %s is %s's too; not taken",
                      application_no, other.application_no)
            return False
        salt, digest = self._hash(code)
        with self._write() as w:
            cur = w.execute("UPDATE items SET code_salt = ?, code_hash = ? WHERE"
                            " application_no = ? AND state = ?",
                            (salt, digest, application_no, LOADED))
            return cur.rowcount > 0

    def _secrets(self, salt_col: str, hash_col: str) -> list[tuple[int, bytes, bytes]]:
        with self._lock:
            return [(int(r[0]), bytes(r[1]), bytes(r[2])) for r in self._conn().execute(
                f"SELECT door, {salt_col}, {hash_col} FROM items WHERE state = ?"
                f" AND {hash_col} IS NOT NULL ORDER BY door", (LOADED,))]

    def for_identity(self, id_number: str) -> list[LockerItem]:
        """The loaded items whose assignee has this ID number."""
        doors = [door for door, salt, digest in self._secrets("assignee_salt", "assignee_hash")
                 if self._matches(id_number, salt, digest)]
        return [i for i in self.items() if i.door in doors]

    def for_code(self, code: str) -> LockerItem | None:
        """The loaded item this pickup code opens, if any."""
        for door, salt, digest in self._secrets("code_salt", "code_hash"):
            if self._matches(code, salt, digest):
                return self.item(door)
        return None

    def _finish(self, door: int, state: str) -> bool:
        with self._write() as w:
            cur = w.execute("UPDATE items SET state = ?, assignee_salt = NULL,"
                            " assignee_hash = NULL, code_salt = NULL, code_hash = NULL"
                            " WHERE door = ? AND state IN (?, ?)",
                            (state, door, LOADED, NEEDS_STAFF))
            return cur.rowcount > 0

    def collected(self, door: int) -> bool:
        """The citizen took it: the door was seen closed on an empty compartment."""
        return self._finish(door, COLLECTED)

    def retrieved(self, door: int) -> bool:
        """Staff took it out (overdue, or one the terminal could not account for)."""
        return self._finish(door, RETRIEVED)

    def to_staff(self, door: int) -> bool:
        """The terminal cannot tell where this item is (or whether it went in): staff look."""
        with self._write() as w:
            cur = w.execute("UPDATE items SET state = ? WHERE door = ? AND state IN (?, ?)",
                            (NEEDS_STAFF, door, LOADED, LOADING))
            return cur.rowcount > 0

    # ---------------------------------------------------------------- wrong pickup codes
    def code_failed(self, now: float, window_s: float) -> list[float]:
        """A wrong pickup code: when each wrong one in the last `window_s` was typed (older
        ones are forgotten). A right code clears nothing: it would reset the count for whoever
        is guessing between their own pickups."""
        with self._write() as w:
            w.execute("DELETE FROM code_failures WHERE at < ?", (now - window_s,))
            w.execute("INSERT INTO code_failures (at) VALUES (?)", (now,))
            return [float(r[0]) for r in w.execute("SELECT at FROM code_failures ORDER BY id")]

    def code_failures(self, since: float) -> list[float]:
        with self._lock:
            return [float(r[0]) for r in self._conn().execute(
                "SELECT at FROM code_failures WHERE at >= ? ORDER BY id", (since,))]

    # ---------------------------------------------------------------- door journal
    def event_key(self, what: str, intent: int) -> str:
        """The outbox key of a door intent's event: once per intent, and never the same as
        another locker database's (intent ids start again in a new one)."""
        return f"locker.{what}:{self._id}:{intent}"

    def intend(self, door: int, purpose: str, application_no: str, now: float) -> int:
        """Before the unlock goes to the board: what the door is being opened for."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        with self._write() as w:
            return self._intend(w, door, purpose, application_no, now)

    @staticmethod
    def _intend(w: sqlite3.Connection, door: int, purpose: str, application_no: str,
                now: float) -> int:
        # An older intent still open on this door (a door left open) is this one's to settle
        # now: two settling one door could record its ending twice.
        w.execute("UPDATE door_intents SET resolved_at = ?, outcome = 'superseded' WHERE"
                  " door = ? AND resolved_at IS NULL", (now, door))
        cur = w.execute("INSERT INTO door_intents (door, purpose, application_no, at)"
                        " VALUES (?, ?, ?, ?)", (door, purpose, application_no, now))
        return int(cur.lastrowid or 0)

    def door_answered(self, intent: int, opened: bool) -> None:
        with self._write() as w:
            w.execute("UPDATE door_intents SET opened = ? WHERE id = ?", (int(opened), intent))

    def resolve(self, intent: int, outcome: str, now: float) -> None:
        with self._write() as w:
            w.execute("UPDATE door_intents SET resolved_at = ?, outcome = ? WHERE id = ?",
                      (now, outcome, intent))

    def unresolved(self) -> list[DoorIntent]:
        with self._lock:
            rows = self._conn().execute(
                "SELECT id, door, purpose, application_no, at, opened FROM door_intents"
                " WHERE resolved_at IS NULL ORDER BY id").fetchall()
        return [DoorIntent(int(r[0]), int(r[1]), str(r[2]), str(r[3]), float(r[4]),
                           opened=None if r[5] is None else bool(r[5])) for r in rows]

    def door_troubles(self, now: float, left_open_s: float) -> list[tuple[str, int]]:
        """Doors a person must look at: ("jammed", door) when the door's last opening ended
        jammed (nothing has opened it since), ("left_open", door) when a door opened for
        someone is still open past `left_open_s` (the watch settles it once it is shut)."""
        with self._lock:
            left = self._conn().execute(
                "SELECT DISTINCT door FROM door_intents WHERE resolved_at IS NULL AND"
                " opened = 1 AND at < ? ORDER BY door", (now - left_open_s,)).fetchall()
        return [("jammed", door) for door in sorted(self.jammed_doors())] + \
            [("left_open", int(r[0])) for r in left]

    def jammed_doors(self) -> set[int]:
        """Doors whose last opening ended jammed (nothing has opened them since)."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT d.door FROM door_intents d WHERE d.outcome = 'jammed' AND d.id ="
                " (SELECT MAX(id) FROM door_intents WHERE door = d.door)").fetchall()
        return {int(r[0]) for r in rows}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
            if self._memory is not None:
                self._memory.close()
