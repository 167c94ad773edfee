"""Staff PINs, kept as slow salted hashes (scrypt at n = 2^14, a fresh salt each) in SQLite
beside the terminal's other records (0600), with a lockout that grows: after 5 wrong PINs in
a row a member of staff waits 30 s, and the wait doubles with every further wrong PIN, up to
an hour (as vxsuite's machines do). Every sign-in, failure and lockout is for the audit log;
the PIN itself is never kept or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from offline_queue import durable

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
FREE_TRIES = 5
FIRST_LOCK_S, MAX_LOCK_S = 30.0, 3600.0
PIN_DIGITS = (6, 12)
STAFF_PINS_FILE = "staff-pins.db"  # in the terminal's data directory

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_badges (
    badge_hash BLOB PRIMARY KEY, staff_id TEXT NOT NULL, role TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS badge_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS staff_pins (
    staff_id TEXT PRIMARY KEY, role TEXT NOT NULL, salt BLOB NOT NULL, digest BLOB NOT NULL,
    wrong INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0
);
"""


def _digest(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, **SCRYPT)


@dataclass(frozen=True)
class SignIn:
    ok: bool
    role: str | None = None
    reason: str = ""  # unknown_staff, wrong_pin, locked
    locked_until: float | None = None
    tries_left: int | None = None


class StaffPins:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = durable.connect(path, shared=True)
        self._conn.executescript(_SCHEMA)
        path.chmod(0o600)

    def set_pin(self, staff_id: str, role: str, pin: str) -> None:
        low, high = PIN_DIGITS
        if not (pin.isdigit() and low <= len(pin) <= high):
            raise ValueError(f"a PIN is {low} to {high} digits")
        salt = os.urandom(16)
        with self._lock, durable.write_transaction(self._conn) as conn:
            conn.execute("INSERT INTO staff_pins (staff_id, role, salt, digest) VALUES"
                         " (?, ?, ?, ?) ON CONFLICT(staff_id) DO UPDATE SET role ="
                         " excluded.role, salt = excluded.salt, digest = excluded.digest,"
                         " wrong = 0, locked_until = 0", (staff_id, role, salt,
                                                          _digest(pin, salt)))

    def _badge_hash(self, uid: bytes) -> bytes:
        """A badge's UID is short (4 to 10 bytes): kept only as an HMAC under this file's
        own random key, so that the file alone does not list the badges that open it."""
        with self._lock, durable.write_transaction(self._conn) as conn:
            row = conn.execute("SELECT key FROM badge_key WHERE id = 1").fetchone()
            if row is None:
                key = os.urandom(32)
                conn.execute("INSERT INTO badge_key (id, key) VALUES (1, ?)", (key,))
            else:
                key = bytes(row[0])
        return hmac.new(key, uid, hashlib.sha256).digest()

    def set_badge(self, staff_id: str, role: str, uid: bytes) -> None:
        if not 4 <= len(uid) <= 10:
            raise ValueError("a badge's UID is 4 to 10 bytes")
        digest = self._badge_hash(uid)
        with self._lock, durable.write_transaction(self._conn) as conn:
            conn.execute("DELETE FROM staff_badges WHERE staff_id = ?", (staff_id,))
            conn.execute("INSERT INTO staff_badges (badge_hash, staff_id, role) VALUES"
                         " (?, ?, ?) ON CONFLICT(badge_hash) DO UPDATE SET staff_id ="
                         " excluded.staff_id, role = excluded.role", (digest, staff_id, role))

    def badge_holder(self, uid: bytes) -> tuple[str, str] | None:
        """(staff_id, role) of the badge, or None."""
        digest = self._badge_hash(uid)
        with self._lock:
            row = self._conn.execute("SELECT staff_id, role FROM staff_badges WHERE"
                                     " badge_hash = ?", (digest,)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def knows(self, staff_id: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM staff_pins WHERE staff_id = ?",
                                      (staff_id,)).fetchone() is not None

    def sign_in(self, staff_id: str, pin: str, now: float) -> SignIn:
        """The try is counted as wrong before the PIN is checked (in one transaction with
        the lockout test), and cleared once it proves right: sign-ins run side by side in
        several processes still count one try each."""
        with self._lock, durable.write_transaction(self._conn) as conn:
            row = conn.execute("SELECT role, salt, digest, wrong, locked_until FROM"
                               " staff_pins WHERE staff_id = ?", (staff_id,)).fetchone()
            if row is not None and now >= row[4]:
                wrong = row[3] + 1
                lock = 0.0 if wrong < FREE_TRIES else \
                    now + min(MAX_LOCK_S, FIRST_LOCK_S * 2.0 ** (wrong - FREE_TRIES))
                conn.execute("UPDATE staff_pins SET wrong = ?, locked_until = ? WHERE"
                             " staff_id = ?", (wrong, lock, staff_id))
        if row is None:
            _digest(pin, b"\0" * 16)  # as slow as a known one: no telling who exists
            return SignIn(False, reason="unknown_staff")
        role, salt, digest, _, locked_until = row
        if now < locked_until:
            return SignIn(False, role, "locked", locked_until)
        if hmac.compare_digest(_digest(pin, bytes(salt)), bytes(digest)):
            with self._lock, durable.write_transaction(self._conn) as conn:
                conn.execute("UPDATE staff_pins SET wrong = 0, locked_until = 0 WHERE"
                             " staff_id = ?", (staff_id,))
            return SignIn(True, role)
        if lock:
            return SignIn(False, role, "locked", lock)
        return SignIn(False, role, "wrong_pin", tries_left=FREE_TRIES - wrong)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
