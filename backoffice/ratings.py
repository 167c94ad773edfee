"""Visit ratings (政务服务"好差评"): every visit to a terminal may be rated once, on five levels,
and a bad rating (不满意, 非常不满意) opens a follow-up that staff must handle and close.

The terminal sends a rating through its outbox as a `visit.rating` envelope. The store checks it
(`rating_fields`) with the other envelopes of its batch and writes the rating, its follow-up and
the envelope in one transaction (`insert_ratings`), so no crash leaves a bad rating without its
follow-up, nor a rating whose envelope the terminal would send again.

One rating per visit: the (terminal_id, visit_id) pair is the ratings table's primary key. The
same envelope sent again (the same idempotency key) is a duplicate, as every envelope is; a
second rating of an already rated visit under another key is rejected, leaves no trace (its key
stays unknown) and the first rating stands, unchanged. It is the rule applications follow for a
tracking number taken by another key: the terminal parks it for staff instead of the back
office overwriting or merging what a citizen said.

A rating holds no personal data: a visit is named by a random id the terminal draws, and a
payload with any field beyond the contract's eight is rejected, so nothing can ride along.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from backoffice.db import Database, Tx, insert_returning

RATING_EVENT = "visit.rating"
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD = 2  # 不满意 and below: the 差评 that open a follow-up and may carry reasons
SATISFIED = 3  # 基本满意 and above: the 好评 side of satisfied_share
MAX_REASONS = 8
# Stored as given; a code the terminal's newer catalogue has and this list not is kept too.
KNOWN_REASONS = frozenset({"waited_too_long", "hard_to_use", "device_failed",
                           "could_not_finish", "staff_unhelpful", "other"})
LANGUAGES = ("zh", "en")
FIELDS = ("terminal_id", "at", "visit_id", "service_id", "level", "reasons", "language",
          "elder")
MAX_NOTE = 500
FOLLOWUP_STATUSES = ("open", "closed")

_VISIT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_REASON = re.compile(r"[a-z_]{1,40}")
# A phone number (11 digits) or an ID number (17 and a check character) typed into a note.
_LONG_NUMBER = re.compile(r"\d{11,}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    terminal_id TEXT NOT NULL, visit_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,
    service_id TEXT, level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    reasons TEXT NOT NULL, language TEXT NOT NULL, elder INTEGER NOT NULL,
    rated_at REAL NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (terminal_id, visit_id));
CREATE UNIQUE INDEX IF NOT EXISTS idx_ratings_idempotency_key ON ratings (idempotency_key);
CREATE TABLE IF NOT EXISTS followups (
    id {id}, terminal_id TEXT NOT NULL, visit_id TEXT NOT NULL, level INTEGER NOT NULL,
    reasons TEXT NOT NULL, opened_at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')), closed_at REAL, note TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS idx_followups_visit ON followups (terminal_id, visit_id);
CREATE INDEX IF NOT EXISTS idx_followups_status ON followups (status, opened_at);
"""

_RATING_COLUMNS = ("terminal_id", "visit_id", "service_id", "level", "reasons", "language",
                   "elder", "rated_at", "received_at")
_FOLLOWUP_COLUMNS = ("id", "terminal_id", "visit_id", "level", "reasons", "opened_at",
                     "status", "closed_at", "note")


class BadRating(ValueError):
    """A visit.rating payload off the contract; the message names the field."""


@dataclass(frozen=True)
class Rating:
    terminal_id: str
    visit_id: str
    service_id: str | None
    level: int
    reasons: tuple[str, ...]
    language: str
    elder: bool
    rated_at: float

    @property
    def bad(self) -> bool:
        return self.level <= BAD


def rating_fields(doc: dict[str, Any]) -> Rating:
    """A visit.rating payload checked field by field; BadRating names the first one wrong."""
    terminal_id = doc.get("terminal_id")
    if not isinstance(terminal_id, str) or not terminal_id.strip():
        raise BadRating("field 'terminal_id' is missing or not a non-empty string")
    at = doc.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise BadRating("field 'at' is missing or not a finite number (unix seconds)")
    visit_id = doc.get("visit_id")
    if not isinstance(visit_id, str) or not _VISIT_ID.fullmatch(visit_id):
        raise BadRating("field 'visit_id' must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -")
    if "service_id" not in doc:
        raise BadRating("field 'service_id' is missing (null when nothing was done)")
    service_id = doc["service_id"]
    if service_id is not None and (not isinstance(service_id, str) or not service_id.strip()):
        raise BadRating("field 'service_id' must be null or a non-empty string")
    level = doc.get("level")
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise BadRating("field 'level' must be an integer from 1 (非常不满意) to 5 (非常满意)")
    reasons = _reasons(doc.get("reasons"), level)
    language = doc.get("language")
    if language not in LANGUAGES:
        raise BadRating("field 'language' must be 'zh' or 'en'")
    elder = doc.get("elder")
    if not isinstance(elder, bool):
        raise BadRating("field 'elder' must be true or false")
    extra = sorted(set(doc) - set(FIELDS))
    if extra:
        raise BadRating(f"field {extra[0][:40]!r} is not part of a visit.rating (a rating"
                        f" carries {', '.join(FIELDS)} and nothing else)")
    return Rating(terminal_id, visit_id, service_id, level, reasons, str(language), elder,
                  float(at))


def _reasons(value: object, level: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadRating("field 'reasons' is missing or not a list (empty when there are none)")
    if value and level > BAD:
        raise BadRating("field 'reasons' must be empty unless level is 1 or 2 (reasons are"
                        " asked for 不满意 and 非常不满意 only)")
    if len(value) > MAX_REASONS:
        raise BadRating(f"field 'reasons' has more than {MAX_REASONS} reason codes")
    for i, code in enumerate(value):
        if not isinstance(code, str) or not _REASON.fullmatch(code):
            raise BadRating(f"field 'reasons': item {i} is not a reason code (1 to 40 of a-z"
                            " and _)")
    if len(set(value)) < len(value):
        raise BadRating("field 'reasons' names a reason code twice")
    return tuple(value)


def insert_ratings(tx: Tx, rated: Sequence[tuple[str, Rating]], now: float) -> set[str]:
    """Write (idempotency_key, rating) pairs and a follow-up for each bad one, inside the
    store's transaction; the keys whose rating was stored. A visit already rated (by an
    earlier envelope, or by one earlier in `rated`) keeps its first rating: that key is
    left out, and the caller refuses its envelope."""
    stored = insert_returning(
        tx, "INSERT INTO ratings(terminal_id, visit_id, idempotency_key, service_id, level,"
        " reasons, language, elder, rated_at, received_at)",
        [(r.terminal_id, r.visit_id, key, r.service_id, r.level, json.dumps(list(r.reasons)),
          r.language, int(r.elder), r.rated_at, now) for key, r in rated],
        "ON CONFLICT DO NOTHING RETURNING idempotency_key")
    insert_returning(
        tx, "INSERT INTO followups(terminal_id, visit_id, level, reasons, opened_at, status)",
        [(r.terminal_id, r.visit_id, r.level, json.dumps(list(r.reasons)), now, "open")
         for key, r in rated if key in stored and r.bad],
        "ON CONFLICT DO NOTHING RETURNING id")
    return stored


def note_problem(note: object) -> str | None:
    """Why a follow-up cannot be closed with this note, or None."""
    if not isinstance(note, str) or not note.strip():
        return "field 'note' must be a non-empty string: what was done about it"
    if len(note) > MAX_NOTE:
        return f"field 'note' is longer than {MAX_NOTE} characters"
    if _LONG_NUMBER.search(note):
        return ("field 'note' must not carry a citizen's phone or ID number (11 or more digits"
                " in a row): a follow-up holds no personal data")
    return None


CloseOutcome = Literal["closed", "unknown", "already_closed"]


class RatingsOffice:
    """Reads of the ratings and the follow-ups, and closing a follow-up. Its tables are in the
    store's database, which writes the ratings (`insert_ratings`)."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        db.schema(_SCHEMA)

    def ratings(self, terminal_id: str | None = None) -> list[dict[str, Any]]:
        where, params = _terminal(terminal_id)
        rows = self._db.query(f"SELECT {', '.join(_RATING_COLUMNS)} FROM ratings{where}"
                              " ORDER BY rated_at, terminal_id, visit_id", params)
        return [_rating_record(row) for row in rows]

    def summary(self, terminal_id: str | None = None) -> dict[str, Any]:
        """count; by_level, all five levels ("1" to "5"); satisfied_share, the share rated
        基本满意 or better (0.0 when there are none)."""
        where, params = _terminal(terminal_id)
        by_level = dict.fromkeys((str(level) for level in sorted(LEVELS)), 0)
        for level, n in self._db.query(
                f"SELECT level, COUNT(*) FROM ratings{where} GROUP BY level", params):
            by_level[str(level)] = int(n)
        count = sum(by_level.values())
        satisfied = sum(n for level, n in by_level.items() if int(level) >= SATISFIED)
        return {"count": count, "by_level": by_level,
                "satisfied_share": satisfied / count if count else 0.0}

    def followups(self, status: str | None = None) -> list[dict[str, Any]]:
        """Open ones first, each group oldest first."""
        where, params = (" WHERE status = ?", (status,)) if status else ("", ())
        rows = self._db.query(
            f"SELECT {', '.join(_FOLLOWUP_COLUMNS)} FROM followups{where} ORDER BY"
            " CASE WHEN status = 'open' THEN 0 ELSE 1 END, opened_at, id", params)
        return [_followup_record(row) for row in rows]

    def close(self, followup_id: int, note: str) -> tuple[CloseOutcome, dict[str, Any] | None]:
        """Close an open follow-up with staff's note. Closed already: the record as it was
        closed (the first close's note stands); unknown: None."""
        now = self._clock()

        def work(tx: Tx) -> tuple[int, Any]:
            # Two staff closing at once: the second UPDATE finds it closed and changes nothing.
            changed = tx.execute(
                "UPDATE followups SET status = 'closed', closed_at = ?, note = ?"
                " WHERE id = ? AND status = 'open'", (now, note.strip(), followup_id)).rowcount
            row = tx.execute(f"SELECT {', '.join(_FOLLOWUP_COLUMNS)} FROM followups"
                             " WHERE id = ?", (followup_id,)).fetchone()
            return changed, row

        changed, row = self._db.run(work)
        if row is None:
            return "unknown", None
        return ("closed" if changed == 1 else "already_closed"), _followup_record(row)


def _terminal(terminal_id: str | None) -> tuple[str, tuple[str, ...]]:
    return (" WHERE terminal_id = ?", (terminal_id,)) if terminal_id is not None else ("", ())


def _rating_record(row: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(_RATING_COLUMNS, row, strict=True))
    record["reasons"] = json.loads(record["reasons"])
    record["elder"] = bool(record["elder"])
    return record


def _followup_record(row: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(_FOLLOWUP_COLUMNS, row, strict=True))
    record["reasons"] = json.loads(record["reasons"])
    return record
