"""Storage of the reference back office: dedupe by idempotency key, one row per application,
one per visit rating (backoffice/ratings.py, with its follow-up when the rating is bad).

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

from backoffice.audit_checkpoints import (
    CHECKPOINT_EVENT,
    AuditCheckpoints,
    BadCheckpoint,
    Checkpoint,
    checkpoint_fields,
    insert_checkpoints,
)
from backoffice.calls import CALL_EVENT, BadCall, CallsOffice, call_fields, insert_calls
from backoffice.db import Database, Tx, insert_returning
from backoffice.ratings import (
    RATING_EVENT,
    BadRating,
    Rating,
    RatingsOffice,
    insert_ratings,
    rating_fields,
)
from backoffice.tellers import TellerDirectory
from backoffice.terminals import TerminalsOffice

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
    rating: Rating | None = None  # for visit.rating
    call: tuple[str, str, float, float] | None = None  # for staff.call (backoffice/calls.py)
    checkpoint: Checkpoint | None = None  # for audit.checkpoint (audit_checkpoints.py)


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
        # Its tables are written in the envelopes' transaction: the same database.
        self.ratings = RatingsOffice(db, clock=clock)
        self.calls = CallsOffice(db, clock=clock)  # written once a staff.call is accepted
        self.tellers = TellerDirectory(db)  # the bank's staff sign-on, stood in for
        self.terminals = TerminalsOffice(db, clock=clock)  # enrolment, heartbeats, config
        self.audit_checkpoints = AuditCheckpoints(db)  # kept with their envelopes

    def accept(self, key: str, kind: str, payload: bytes) -> tuple[str, str]:
        """Store one envelope exactly once. Returns (accepted|duplicate|rejected, detail)."""
        return self.accept_many([(key, kind, payload)])[0]

    def accept_many(self, envelopes: list[tuple[str, str, bytes]]) -> list[tuple[str, str]]:
        """Store a batch, each envelope exactly once, in one transaction (one commit for the
        batch, a few statements for all of it). The envelope's key is unique in the
        database: a second process, or a second delivery racing this one, finds it taken and
        is answered "duplicate". An application whose tracking number another key already
        has, or a rating of a visit another key already rated, is rejected and leaves no
        trace (its key stays unknown). A rating and its follow-up are written with their
        envelope. One (status, detail) per envelope, in order."""
        checked = [self._check(key, kind, payload) for key, kind, payload in envelopes]
        todo = [(key, kind, c) for (key, kind, _), c in zip(envelopes, checked, strict=True)
                if isinstance(c, _Checked)]
        now = self._clock()
        inserted: set[str] = set()
        refused: dict[str, str] = {}  # key -> why

        def store(tx: Tx) -> None:
            inserted.clear()
            refused.clear()
            if not todo:
                return
            inserted.update(insert_returning(
                tx, "INSERT INTO envelopes(idempotency_key, kind, received_at, payload)",
                ((key, kind, now, c.sealed) for key, kind, c in todo),
                "ON CONFLICT DO NOTHING RETURNING idempotency_key"))
            fresh: dict[str, tuple[str, _Checked]] = {}  # a key twice: its first is stored
            for key, kind, c in todo:
                if key in inserted and key not in fresh:
                    fresh[key] = (kind, c)
            apps = [(c.application["tracking_no"], key, c.application["service_id"],
                     c.application["terminal_id"], c.application["citizen_hash"], "received",
                     c.application["submitted_at"], now, c.application["face_check"])
                    for key, (_, c) in fresh.items() if c.application is not None]
            taken = insert_returning(
                tx, "INSERT INTO applications(tracking_no, idempotency_key, service_id,"
                " terminal_id, citizen_hash, status, submitted_at, received_at, face_check)",
                apps, "ON CONFLICT DO NOTHING RETURNING idempotency_key")
            refused.update((a[1], f"tracking_no {a[0]!r} already exists under another"
                            " idempotency key") for a in apps if a[1] not in taken)
            rated = [(key, c.rating) for key, (_, c) in fresh.items() if c.rating is not None]
            kept = insert_ratings(tx, rated, now)
            refused.update((key, f"visit_id {r.visit_id!r} of terminal {r.terminal_id!r} is"
                            " already rated under another idempotency key (one rating per"
                            " visit: the first stands)") for key, r in rated if key not in kept)
            if refused:  # the envelope row goes with it: a rejected key stays unknown
                marks = ", ".join("?" * len(refused))
                tx.execute(f"DELETE FROM envelopes WHERE idempotency_key IN ({marks})",
                           tuple(refused))
            insert_calls(tx, [(key, c.call) for key, (_, c) in fresh.items()
                              if c.call is not None], now)
            insert_checkpoints(tx, [(key, c.checkpoint) for key, (_, c) in fresh.items()
                                    if c.checkpoint is not None], now)
            # A rating is an event too (its payload sealed, as every event's).
            events = [(key, kind, c.terminal_id, now, c.sealed)
                      for key, (kind, c) in fresh.items()
                      if c.application is None and key not in refused]
            insert_returning(tx, "INSERT INTO events(idempotency_key, kind, terminal_id,"
                             " received_at, body)", events, "RETURNING idempotency_key")

        self._db.run(store)
        answers: list[tuple[str, str]] = []
        first: set[str] = set()
        for (key, kind, _), c in zip(envelopes, checked, strict=True):
            if not isinstance(c, _Checked):
                answers.append(c)
            elif key in refused:  # its first envelope in the batch was the one refused
                answers.append((REJECTED, refused[key] if key not in first else
                                f"its key was refused in this batch: {refused[key]}"))
                first.add(key)
            elif key in inserted and key not in first:
                first.add(key)
                answers.append((ACCEPTED, _received(kind, c)))
            else:
                answers.append((DUPLICATE, "already received"))
        return answers

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
            rating = rating_fields(doc) if kind == RATING_EVENT else None
            call = call_fields(doc) if kind == CALL_EVENT else None
            checkpoint = checkpoint_fields(doc) if kind == CHECKPOINT_EVENT else None
        except (_Rejected, BadRating, BadCall, BadCheckpoint) as exc:
            return REJECTED, str(exc)
        if app is not None:
            # Only the keyed hash leaves the (encrypted) payload: lookups by citizen never
            # need the number itself.
            app["citizen_hash"] = self._citizen_hash(app.pop("id_number"))
        terminal = doc.get("terminal_id")
        return _Checked(self._cipher.encrypt(text.encode("utf-8")).decode("ascii"), app,
                        terminal if isinstance(terminal, str) else None, rating, call,
                        checkpoint)

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


def _received(kind: str, c: _Checked) -> str:
    if c.application is not None:
        return f"application {c.application['tracking_no']} received"
    if c.rating is not None:
        return f"rating of visit {c.rating.visit_id} received" + (
            ", follow-up opened" if c.rating.bad else "")
    return f"{kind} event received"


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
