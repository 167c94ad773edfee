"""Storage of the reference back office: dedupe by idempotency key, one row per application.

Payloads (names, ID numbers, forms) are kept encrypted under the back office's store key; the
only citizen field in clear is the keyed citizen hash the applications are found by."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet

from backoffice.db import Database, Tx

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"
APPLICATION_SUBMIT = "application.submit"

_APP_COLUMNS = (
    "tracking_no", "idempotency_key", "service_id", "terminal_id", "citizen_hash", "status",
    "submitted_at", "received_at", "face_check",
)


MAX_KEY = 128  # an idempotency key is a UUID (32 hex digits); far longer is not one of ours
MAX_KIND = 64
MAX_BATCH = 1000  # envelopes in one POST (terminals send 50)
MAX_DEPTH = 32  # JSON nesting: a batch is 4 deep, an application 5


class _Rejected(Exception):
    pass


@dataclass(frozen=True)
class _Checked:
    sealed: str  # the payload, encrypted
    application: dict[str, Any] | None  # the application's columns, for application.submit
    terminal_id: str | None


def parse_json(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """JSON, or ValueError saying why not: not JSON, not UTF-8, or nested deeper than
    `max_depth` (which the parser itself would answer with a RecursionError, or a 500)."""
    try:
        doc = json.loads(raw)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {max_depth} levels") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("not UTF-8 JSON") from e
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise ValueError(f"JSON nested deeper than {max_depth} levels")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return doc


_SCHEMA = """
CREATE TABLE IF NOT EXISTS envelopes (
    idempotency_key TEXT PRIMARY KEY, kind TEXT NOT NULL, received_at REAL NOT NULL,
    payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applications (
    tracking_no TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL, service_id TEXT NOT NULL,
    terminal_id TEXT NOT NULL, citizen_hash TEXT NOT NULL, status TEXT NOT NULL,
    submitted_at REAL NOT NULL, received_at REAL NOT NULL, face_check TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS idx_applications_idempotency_key
    ON applications (idempotency_key);
CREATE INDEX IF NOT EXISTS idx_applications_citizen_hash ON applications (citizen_hash);
CREATE TABLE IF NOT EXISTS events (
    id {id}, idempotency_key TEXT NOT NULL, kind TEXT NOT NULL, terminal_id TEXT,
    received_at REAL NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS idx_events_idempotency_key ON events (idempotency_key);
"""


class BackOfficeStore:
    def __init__(self, db: Database, *, citizen_hash: Callable[[str], str], cipher: Fernet,
                 clock: Callable[[], float] = time.time) -> None:
        """`citizen_hash`: the keyed hash citizens are matched by (a check digit read as 'x'
        and as 'X' is the same person); `cipher`: what payloads are stored under."""
        self._db = db
        self._clock = clock
        self._citizen_hash = citizen_hash
        self._cipher = cipher
        db.schema(_SCHEMA)
        if "face_check" not in db.columns("applications"):  # a store from before face checks
            db.schema("ALTER TABLE applications ADD COLUMN face_check TEXT")

    def accept(self, key: str, kind: str, payload: bytes) -> tuple[str, str]:
        """Store one envelope exactly once. Returns (accepted|duplicate|rejected, detail)."""
        return self.accept_many([(key, kind, payload)])[0]

    def accept_many(self, envelopes: list[tuple[str, str, bytes]]) -> list[tuple[str, str]]:
        """Store a batch, each envelope exactly once, in one transaction (one commit, one
        fsync for the batch); each envelope has a savepoint of its own, so a rejected one
        leaves no trace and the others stand. One (status, detail) per envelope."""
        checked = [self._check(key, kind, payload) for key, kind, payload in envelopes]
        now = self._clock()

        def store(tx: Tx) -> list[tuple[str, str]]:
            answers = []
            for (key, kind, _), check in zip(envelopes, checked, strict=True):
                if isinstance(check, tuple):
                    answers.append(check)
                    continue
                tx.execute("SAVEPOINT envelope")
                try:
                    answers.append(self._store(tx, key, kind, check, now))
                except _Rejected as exc:
                    tx.execute("ROLLBACK TO SAVEPOINT envelope")
                    answers.append((REJECTED, str(exc)))
                tx.execute("RELEASE SAVEPOINT envelope")
            return answers

        return self._db.run(store)

    def _check(self, key: str, kind: str, payload: bytes) -> tuple[str, str] | _Checked:
        """What can be refused before the database is asked: a refusal, or what to store."""
        if not key:
            return REJECTED, "idempotency_key is empty"
        if not kind:
            return REJECTED, "kind is empty"
        if len(kind) > MAX_KIND:
            return REJECTED, f"kind is longer than {MAX_KIND} characters"
        try:
            text = payload.decode("utf-8")
            doc = parse_json(text)
        except UnicodeDecodeError:
            return REJECTED, "payload is not UTF-8 JSON"
        except ValueError as e:
            return REJECTED, f"payload is {e}" if str(e).startswith("not") else f"payload: {e}"
        if not isinstance(doc, dict):
            return REJECTED, "payload is not a JSON object"
        try:
            app = _application_fields(doc) if kind == APPLICATION_SUBMIT else None
        except _Rejected as exc:
            return REJECTED, str(exc)
        if app is not None:
            # Only the keyed hash leaves the (encrypted) payload: lookups by citizen never
            # need the number itself.
            app["citizen_hash"] = self._citizen_hash(app.pop("id_number"))
        terminal = doc.get("terminal_id")
        return _Checked(self._cipher.encrypt(text.encode("utf-8")).decode("ascii"), app,
                        terminal if isinstance(terminal, str) else None)

    @staticmethod
    def _store(tx: Tx, key: str, kind: str, checked: _Checked, now: float) -> tuple[str, str]:
        # The envelope's key is unique in the database: a second process (or a second
        # delivery racing this one) finds it taken and answers "duplicate".
        cur = tx.execute(
            "INSERT INTO envelopes(idempotency_key, kind, received_at, payload)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (key, kind, now, checked.sealed))
        if cur.rowcount == 0:
            return DUPLICATE, "already received"
        app = checked.application
        if app is None:
            tx.execute(
                "INSERT INTO events(idempotency_key, kind, terminal_id, received_at, body)"
                " VALUES (?, ?, ?, ?, ?)", (key, kind, checked.terminal_id, now, checked.sealed))
            return ACCEPTED, f"{kind} event received"
        cur = tx.execute(
            "INSERT INTO applications(tracking_no, idempotency_key, service_id, terminal_id,"
            " citizen_hash, status, submitted_at, received_at, face_check)"
            " VALUES (?, ?, ?, ?, ?, 'received', ?, ?, ?) ON CONFLICT DO NOTHING",
            (app["tracking_no"], key, app["service_id"], app["terminal_id"],
             app["citizen_hash"], app["submitted_at"], now, app["face_check"]))
        if cur.rowcount == 0:
            # Rolling back to the savepoint takes the envelope row too: a rejected key stays
            # unknown.
            raise _Rejected(f"tracking_no {app['tracking_no']!r} already exists under"
                            " another idempotency key")
        return ACCEPTED, f"application {app['tracking_no']} received"

    def assignee(self, tracking_no: str) -> str | None:
        """The ID number of the citizen an application is for (staff loading its certificate
        into a terminal's locker: the terminal keeps it only as a salted hash)."""
        rows = self._db.query(
            "SELECT e.payload FROM applications a JOIN envelopes e"
            " ON e.idempotency_key = a.idempotency_key WHERE a.tracking_no = ?",
            (tracking_no,))
        if not rows:
            return None
        citizen = json.loads(self._cipher.decrypt(rows[0][0].encode("ascii"))).get("citizen")
        number = citizen.get("id_number") if isinstance(citizen, dict) else None
        return number if isinstance(number, str) else None

    def applications_for(self, citizen_hash: str) -> list[dict[str, Any]]:
        rows = self._db.query(
            f"SELECT {', '.join(_APP_COLUMNS)} FROM applications WHERE citizen_hash = ?"
            " ORDER BY submitted_at, tracking_no", (citizen_hash,))
        return [dict(zip(_APP_COLUMNS, r, strict=True)) for r in rows]

    def application(self, tracking_no: str) -> dict[str, Any] | None:
        rows = self._db.query(
            f"SELECT {', '.join(_APP_COLUMNS)} FROM applications WHERE tracking_no = ?",
            (tracking_no,))
        return dict(zip(_APP_COLUMNS, rows[0], strict=True)) if rows else None

    def counts(self) -> dict[str, int]:
        return {table: int(self._db.query(f"SELECT COUNT(*) FROM {table}")[0][0])
                for table in ("applications", "envelopes", "events")}


def _application_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """Validate an application.submit payload; the error names the offending field."""
    fields: dict[str, Any] = {}
    for name in ("tracking_no", "service_id", "terminal_id"):
        fields[name] = _nonempty_str(doc.get(name), name)
    citizen = doc.get("citizen")
    if not isinstance(citizen, dict):
        raise _Rejected("field 'citizen' is missing or not an object")
    id_number = _nonempty_str(citizen.get("id_number"), "citizen.id_number")
    _nonempty_str(citizen.get("name"), "citizen.name")
    if not isinstance(doc.get("form"), dict):
        raise _Rejected("field 'form' is missing or not an object")
    submitted_at = doc.get("submitted_at")
    if (
        isinstance(submitted_at, bool)
        or not isinstance(submitted_at, int | float)
        or not math.isfinite(submitted_at)
    ):
        raise _Rejected("field 'submitted_at' is missing or not a finite number")
    fields["submitted_at"] = float(submitted_at)
    face = doc.get("face")
    check = face.get("check") if isinstance(face, dict) else None
    fields["face_check"] = check if isinstance(check, str) else None
    fields["id_number"] = id_number
    return fields


def _nonempty_str(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Rejected(f"field {name!r} is missing or not a non-empty string")
    return value


def parse_batch(raw: bytes) -> list[tuple[str, str, str]]:
    """A POST /v1/envelopes body: (key, kind, payload_b64) of each. Only the whole body's
    structure is refused here: anything without a usable key cannot get an answer of its
    own."""
    try:
        doc = parse_json(raw, max_depth=3)  # {"envelopes": [{...}]}: a payload is base64
    except ValueError as exc:
        raise ValueError(f"body: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("envelopes"), list):
        raise ValueError("body must be an object with an 'envelopes' list")
    if len(doc["envelopes"]) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} envelopes in one batch")
    out: list[tuple[str, str, str]] = []
    for i, env in enumerate(doc["envelopes"]):
        if not isinstance(env, dict) or not isinstance(env.get("idempotency_key"), str):
            raise ValueError(f"envelopes[{i}] has no string idempotency_key")
        if not 0 < len(env["idempotency_key"]) <= MAX_KEY:
            raise ValueError(f"envelopes[{i}].idempotency_key must be 1 to {MAX_KEY} characters")
        kind, b64 = env.get("kind"), env.get("payload_b64")
        # A bad kind or payload is that envelope's problem: it gets "rejected", not a 400.
        out.append((
            env["idempotency_key"],
            kind if isinstance(kind, str) else "",
            b64 if isinstance(b64, str) else "!",
        ))
    return out
