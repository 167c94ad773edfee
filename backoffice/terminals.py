"""The terminals the back office knows: enrolment, credentials, heartbeats and the
configuration each is offered.

- **Enrolment.** The operator issues a one-time enrolment token for one terminal id
  (`POST /v1/enrolment-tokens`, valid a day unless said otherwise) and may revoke it. The
  technician gives it to `kiosk provision enroll`; the terminal trades it
  (`POST /v1/enrolments`) for its own credential, the citizen-hash key and the QR-token public
  key. A token works once. Enrolling again (with a new token) rotates the credential: the old
  one stops working at once. The operator can revoke a terminal's credential.
- Tokens and credentials are kept as SHA-256 hashes only: both are 256-bit random strings, so a
  plain hash is enough to check them and useless to whoever reads the table.
- **Heartbeats**: what the terminal reports every few minutes (device statuses, outbox depth
  and age, versions, uptime), kept as history with the latest one per terminal on top.
- **Remote configuration**: the operator offers a terminal a profile (a version number each
  time, history kept); the terminal pulls it, and says whether it applied it, refused it as
  invalid, or rolled it back because it did not come up healthy.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

from backoffice.db import Database, Tx

TERMINAL_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")  # as a profile's terminal.id
CONFIG_STATUSES = ("offered", "applied", "rejected", "rolled_back")
TOKEN_VALID_S = 24 * 3600.0
HEARTBEATS_KEPT = 1000  # per terminal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS enrolment_tokens (
    token_hash TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, issued_at REAL NOT NULL,
    expires_at REAL NOT NULL, used_at REAL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS terminals (
    terminal_id TEXT PRIMARY KEY, credential_hash TEXT NOT NULL UNIQUE,
    enrolled_at REAL NOT NULL, enrolments INTEGER NOT NULL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS heartbeats (
    id {id}, terminal_id TEXT NOT NULL, received_at REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_heartbeats_terminal ON heartbeats (terminal_id, id);
CREATE TABLE IF NOT EXISTS terminal_configs (
    terminal_id TEXT NOT NULL, version INTEGER NOT NULL, profile TEXT NOT NULL,
    offered_at REAL NOT NULL, status TEXT NOT NULL, detail TEXT, updated_at REAL NOT NULL,
    PRIMARY KEY (terminal_id, version));
"""

EnrolOutcome = Literal["enrolled", "refused"]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def terminal_id_problem(value: object) -> str | None:
    if not isinstance(value, str) or not TERMINAL_ID.fullmatch(value):
        return "field 'terminal_id' must be a terminal id (A-Z, 0-9 and -, 3 to 32)"
    return None


class TerminalsOffice:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        db.schema(_SCHEMA)

    def now(self) -> float:
        """The back office's clock, which terminals check theirs against."""
        return self._clock()

    # -- enrolment ---------------------------------------------------------------------------

    def issue_token(self, terminal_id: str, valid_s: float = TOKEN_VALID_S) -> dict[str, Any]:
        """A one-time enrolment token for one terminal; the only time it is seen in clear."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        self._db.run(lambda tx: tx.execute(
            "INSERT INTO enrolment_tokens(token_hash, terminal_id, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?)", (_digest(token), terminal_id, now, now + valid_s)))
        return {"token": token, "terminal_id": terminal_id, "expires_at": now + valid_s}

    def revoke_token(self, token: str) -> bool:
        """An enrolment token not used yet, made useless; False when there is none such."""
        now = self._clock()
        done: list[int] = []

        def revoke(tx: Tx) -> None:
            done[:] = [tx.execute(
                "UPDATE enrolment_tokens SET revoked_at = ? WHERE token_hash = ?"
                " AND used_at IS NULL AND revoked_at IS NULL", (now, _digest(token))).rowcount]

        self._db.run(revoke)
        return done == [1]

    def enrol(self, token: str, terminal_id: str) -> tuple[EnrolOutcome, str]:
        """("enrolled", the new credential) or ("refused", why). The token is spent and the
        credential written in one transaction: two terminals racing with one token cannot
        both get in."""
        now = self._clock()
        credential = secrets.token_urlsafe(32)
        outcome: list[tuple[EnrolOutcome, str]] = []

        def trade(tx: Tx) -> None:
            outcome.clear()
            row = tx.execute("SELECT terminal_id, expires_at, used_at, revoked_at FROM"
                             " enrolment_tokens WHERE token_hash = ?",
                             (_digest(token),)).fetchone()
            if row is None:
                outcome.append(("refused", "unknown enrolment token"))
                return
            for_id, expires_at, used_at, revoked_at = row
            why = ("this enrolment token was revoked" if revoked_at is not None else
                   "this enrolment token has been used already" if used_at is not None else
                   "this enrolment token has expired" if now > expires_at else
                   f"this enrolment token is for terminal {for_id}" if for_id != terminal_id
                   else None)
            if why is not None:
                outcome.append(("refused", why))
                return
            spent = tx.execute("UPDATE enrolment_tokens SET used_at = ? WHERE token_hash = ?"
                               " AND used_at IS NULL", (now, _digest(token))).rowcount
            if spent != 1:
                outcome.append(("refused", "this enrolment token has been used already"))
                return
            tx.execute(
                "INSERT INTO terminals(terminal_id, credential_hash, enrolled_at, enrolments)"
                " VALUES (?, ?, ?, 1) ON CONFLICT (terminal_id) DO UPDATE"
                " SET credential_hash = excluded.credential_hash, enrolled_at ="
                " excluded.enrolled_at, enrolments = terminals.enrolments + 1, revoked_at = NULL",
                (terminal_id, _digest(credential), now))
            outcome.append(("enrolled", credential))

        self._db.run(trade)
        return outcome[0]

    def terminal_of(self, credential: str) -> str | None:
        """The enrolled, unrevoked terminal this credential is, or None."""
        rows = self._db.query("SELECT terminal_id FROM terminals WHERE credential_hash = ?"
                              " AND revoked_at IS NULL", (_digest(credential),))
        return str(rows[0][0]) if rows else None

    def revoke_terminal(self, terminal_id: str) -> bool:
        now = self._clock()
        done: list[int] = []

        def revoke(tx: Tx) -> None:
            done[:] = [tx.execute("UPDATE terminals SET revoked_at = ? WHERE terminal_id = ?"
                                  " AND revoked_at IS NULL", (now, terminal_id)).rowcount]

        self._db.run(revoke)
        return done == [1]

    def terminals(self) -> list[dict[str, Any]]:
        """Every enrolled terminal with its latest heartbeat (None before the first)."""
        rows = self._db.query("SELECT terminal_id, enrolled_at, enrolments, revoked_at"
                              " FROM terminals ORDER BY terminal_id")
        listed = {r[0]: {"terminal_id": r[0], "enrolled_at": r[1], "enrolments": r[2],
                         "revoked": r[3] is not None, "last_heartbeat": None} for r in rows}
        latest = self._db.query(
            "SELECT h.terminal_id, h.received_at, h.body FROM heartbeats h JOIN (SELECT"
            " terminal_id, MAX(id) AS id FROM heartbeats GROUP BY terminal_id) m ON h.id = m.id")
        for terminal_id, received_at, body in latest:
            entry = listed.setdefault(terminal_id, {"terminal_id": terminal_id,
                                                    "enrolled_at": None, "enrolments": 0,
                                                    "revoked": False})
            entry["last_heartbeat"] = {**json.loads(body), "received_at": received_at}
        return list(listed.values())

    # -- heartbeats --------------------------------------------------------------------------

    def heartbeat(self, terminal_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Keep one heartbeat (the oldest beyond HEARTBEATS_KEPT go); the answer tells the
        terminal the newest configuration version offered to it."""
        now = self._clock()
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)

        def keep(tx: Tx) -> None:
            tx.execute("INSERT INTO heartbeats(terminal_id, received_at, body) VALUES (?, ?, ?)",
                       (terminal_id, now, text))
            tx.execute("DELETE FROM heartbeats WHERE terminal_id = ? AND id <= (SELECT MAX(id)"
                       f" FROM heartbeats WHERE terminal_id = ?) - {HEARTBEATS_KEPT}",
                       (terminal_id, terminal_id))

        self._db.run(keep)
        latest = self.config(terminal_id)
        return {"server_time": now,
                "config_version": latest["version"] if latest is not None else None}

    def heartbeats(self, terminal_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT received_at, body FROM heartbeats WHERE terminal_id = ?"
                              " ORDER BY id DESC LIMIT ?", (terminal_id, limit))
        return [{**json.loads(body), "received_at": at} for at, body in rows]

    # -- remote configuration ----------------------------------------------------------------

    def offer_config(self, terminal_id: str, profile: dict[str, Any]) -> int:
        """A new configuration version for the terminal; the version number."""
        now = self._clock()
        version: list[int] = []

        def offer(tx: Tx) -> None:
            row = tx.execute("SELECT MAX(version) FROM terminal_configs WHERE terminal_id = ?",
                             (terminal_id,)).fetchone()
            version[:] = [int(row[0] or 0) + 1]
            tx.execute("INSERT INTO terminal_configs(terminal_id, version, profile, offered_at,"
                       " status, updated_at) VALUES (?, ?, ?, ?, 'offered', ?)",
                       (terminal_id, version[0], json.dumps(profile, ensure_ascii=False), now,
                        now))

        self._db.run(offer)
        return version[0]

    def config(self, terminal_id: str, version: int | None = None) -> dict[str, Any] | None:
        """The newest configuration offered to the terminal (or that version), or None."""
        where = "" if version is None else " AND version = ?"
        params: tuple[Any, ...] = (terminal_id,) if version is None else (terminal_id, version)
        rows = self._db.query("SELECT version, profile, offered_at, status, detail, updated_at"
                              f" FROM terminal_configs WHERE terminal_id = ?{where}"
                              " ORDER BY version DESC LIMIT 1", params)
        return self._config_record(rows[0]) if rows else None

    def config_history(self, terminal_id: str) -> list[dict[str, Any]]:
        rows = self._db.query("SELECT version, profile, offered_at, status, detail, updated_at"
                              " FROM terminal_configs WHERE terminal_id = ? ORDER BY version",
                              (terminal_id,))
        return [self._config_record(r) for r in rows]

    def config_status(self, terminal_id: str, version: int, status: str,
                      detail: str | None) -> bool:
        """What the terminal did with a version; False when it was never offered."""
        now = self._clock()
        done: list[int] = []

        def note(tx: Tx) -> None:
            done[:] = [tx.execute("UPDATE terminal_configs SET status = ?, detail = ?,"
                                  " updated_at = ? WHERE terminal_id = ? AND version = ?",
                                  (status, detail, now, terminal_id, version)).rowcount]

        self._db.run(note)
        return done == [1]

    @staticmethod
    def _config_record(row: tuple[Any, ...]) -> dict[str, Any]:
        version, profile, offered_at, status, detail, updated_at = row
        return {"version": version, "profile": json.loads(profile), "offered_at": offered_at,
                "status": status, "detail": detail, "updated_at": updated_at}
