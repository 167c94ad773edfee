"""A stand-in for a bank's own staff sign-on (`bank_teller_login` on the terminal): tellers
registered here with a password (kept as a slow salted hash, scrypt) are checked when a
terminal asks. A real bank answers the same question from its own directory; the terminal
only ever learns "yes, this teller" or "no"."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any

from backoffice.db import Database

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
TELLER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MIN_PASSWORD, MAX_PASSWORD = 8, 128

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tellers (
    teller TEXT PRIMARY KEY, salt BLOB NOT NULL, digest BLOB NOT NULL);
"""


def _digest(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)


def credentials_problem(doc: dict[str, Any]) -> str | None:
    """Why a body is not a teller and a password, or None."""
    teller, password = doc.get("teller"), doc.get("password")
    if not isinstance(teller, str) or not TELLER.fullmatch(teller):
        return "field 'teller' must be 1 to 64 of A-Z, a-z, 0-9, _, . and -"
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"field 'password' must be a string of {MIN_PASSWORD} to {MAX_PASSWORD} characters"
    return None


class TellerDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.schema(_SCHEMA)

    def register(self, teller: str, password: str) -> None:
        salt = os.urandom(16)
        digest = _digest(password, salt)
        self._db.run(lambda tx: tx.execute(
            "INSERT INTO tellers(teller, salt, digest) VALUES (?, ?, ?) ON CONFLICT (teller)"
            " DO UPDATE SET salt = excluded.salt, digest = excluded.digest",
            (teller, salt, digest)))

    def check(self, teller: str, password: str) -> bool:
        rows = self._db.query("SELECT salt, digest FROM tellers WHERE teller = ?", (teller,))
        if not rows:
            _digest(password, b"\0" * 16)  # as slow as a known one: no telling who exists
            return False
        salt, digest = rows[0]
        return hmac.compare_digest(_digest(password, bytes(salt)), bytes(digest))
