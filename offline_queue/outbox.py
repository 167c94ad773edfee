"""Durable outbox: an envelope is on disk before enqueue() returns, and leaves only when acked."""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from offline_queue import durable
from offline_queue.cipher import PayloadCipher, PayloadDecryptError
from offline_queue.envelope import (
    DELIVERED,
    IN_FLIGHT,
    PARKED,
    PENDING,
    STATUSES,
    Envelope,
    OutboxStats,
)

_COLUMNS = (
    "id, idempotency_key, kind, payload, created_at, attempts, status, last_error, next_attempt_at,"
    " server_answer"
)
_KEY_CHECK = b"offline_queue key check"


# sqlite-utils' own names for them, as outboxes made before this table have them
_UNIQUE_KEY = "idx_envelopes_idempotency_key"
_INDEXES = {
    _UNIQUE_KEY: ["idempotency_key"],
    "idx_envelopes_status_next_attempt_at_id": ["status", "next_attempt_at", "id"],
    "idx_envelopes_status_id": ["status", "id"],
}


class Outbox:
    def __init__(
        self,
        path: Path,
        *,
        cipher: PayloadCipher | None = None,
        clock: Callable[[], float] = time.time,
        recover_leases: bool = True,
    ) -> None:
        """Open (creating if needed) the outbox at `path`.

        recover_leases=False is for read-only tools (e.g. `kiosk queue status`) opened next to a
        running kiosk: they must not hand the live worker's in-flight envelopes to anybody else.
        """
        self.path = Path(path)
        self._cipher = cipher
        self._clock = clock
        self._connections = durable.ThreadConnections(self.path)
        try:
            self._create_schema()
            self._check_cipher()
        except BaseException:
            self.close()
            raise
        self.recovered_leases = 0  # in flight when the last process stopped, pending again
        if recover_leases:
            # Whoever held these leases is gone (we are starting): the server dedupes, so sending
            # them again is safe, while leaving them in flight would strand them until expiry.
            self.recovered_leases = self._conn().execute(
                "UPDATE envelopes SET status = ?, lease_until = NULL WHERE status = ?",
                (PENDING, IN_FLIGHT),
            ).rowcount

    # -- connection handling -------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with durable.write_transaction(self._conn()) as conn:
            yield conn

    def _create_schema(self) -> None:
        if self._schema_current():
            return
        import sqlite_utils  # only for an outbox not yet made, or made before a change

        db = sqlite_utils.Database(self._conn())
        envelopes = db.table("envelopes")
        envelopes.create(
            {
                "id": int,
                "idempotency_key": str,
                "kind": str,
                "payload": bytes,
                "created_at": float,
                "attempts": int,
                "status": str,
                "last_error": str,
                "next_attempt_at": float,
                "lease_until": float,
                "delivered_at": float,
                "server_answer": str,
            },
            pk="id",
            not_null=["idempotency_key", "kind", "payload", "created_at", "attempts", "status",
                      "next_attempt_at"],
            if_not_exists=True,
        )
        if "server_answer" not in envelopes.columns_dict:  # an outbox from before answers
            envelopes.add_column("server_answer", str)
        for name, columns in _INDEXES.items():
            envelopes.create_index(columns, index_name=name, unique=name == _UNIQUE_KEY,
                                   if_not_exists=True)
        db.table("meta").create({"name": str, "value": bytes}, pk="name", if_not_exists=True)

    def _schema_current(self) -> bool:
        """Whether the tables, the newest column and the indexes are all there already (as at
        every start but a terminal's first): nothing to make then."""
        conn = self._conn()
        names = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
        columns = {row[1] for row in conn.execute("PRAGMA table_info(envelopes)")}
        return ({"envelopes", "meta", *_INDEXES} <= names and "server_answer" in columns)

    def _check_cipher(self) -> None:
        # Fail at open with a clear message rather than later inside the sync thread, where a
        # wrong key would otherwise show up as an endless stream of undecryptable envelopes.
        marker = self._cipher.encrypt(_KEY_CHECK) if self._cipher else b""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO meta(name, value) VALUES('key_check', ?) ON CONFLICT DO NOTHING",
                (marker,),
            )
            (stored,) = conn.execute("SELECT value FROM meta WHERE name='key_check'").fetchone()
        if (self._cipher is None) != (stored == b""):
            state = "encrypted" if stored else "unencrypted"
            raise ValueError(f"outbox {self.path} is {state}; open it with a matching cipher")
        if self._cipher is not None:
            try:
                ok = self._cipher.decrypt(stored) == _KEY_CHECK
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"outbox {self.path} was encrypted with a different key")

    # -- rows <-> envelopes ----------------------------------------------------------------

    def _envelope(self, row: tuple[Any, ...], plaintext: bytes | None = None) -> Envelope:
        payload = bytes(row[3]) if plaintext is None else plaintext
        if plaintext is None and self._cipher is not None:
            payload = self._cipher.decrypt(payload)
        return Envelope(
            id=row[0],
            idempotency_key=row[1],
            kind=row[2],
            payload=payload,
            created_at=row[4],
            attempts=row[5],
            status=row[6],
            last_error=row[7],
            next_attempt_at=row[8],
            server_answer=row[9],
        )

    # -- public API ------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: bytes, idempotency_key: str) -> Envelope:
        """Store an envelope; returns once the commit is durable. Same key twice: no new row."""
        now = self._clock()
        stored = self._cipher.encrypt(payload) if self._cipher else payload
        with self._tx() as conn:
            rows = conn.execute(
                f"INSERT INTO envelopes(idempotency_key, kind, payload, created_at, attempts,"
                f" status, next_attempt_at) VALUES (?, ?, ?, ?, 0, ?, ?)"
                f" ON CONFLICT(idempotency_key) DO NOTHING RETURNING {_COLUMNS}",
                (idempotency_key, kind, stored, now, PENDING, now),
            ).fetchall()  # fetchall: the statement must be finished before COMMIT
            inserted = bool(rows)
            row = rows[0] if rows else None
            if row is None:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM envelopes WHERE idempotency_key = ?",
                    (idempotency_key,),
                ).fetchone()
        if inserted:
            return self._envelope(row, plaintext=payload)
        return self._envelope(row)

    def claim(self, limit: int, lease_s: float) -> builtins.list[Envelope]:
        """Lease up to `limit` due envelopes, oldest first; expired leases count as due."""
        if limit <= 0:
            return []
        now = self._clock()
        with self._tx() as conn:
            # Each side walks the (status, id) index in order and stops at `limit`: a claim
            # costs the same with 100 or 100,000 pending (one sorted union of everything
            # pending made a drain quadratic).
            rows = conn.execute(
                f"UPDATE envelopes SET status = :in_flight, lease_until = :lease"
                f" WHERE id IN (SELECT id FROM ("
                f"   SELECT id FROM (SELECT id FROM envelopes INDEXED BY idx_envelopes_status_id"
                f"     WHERE status = :pending AND next_attempt_at <= :now ORDER BY id"
                f"     LIMIT :limit)"
                f"   UNION ALL"
                f"   SELECT id FROM (SELECT id FROM envelopes WHERE status = :in_flight"
                f"     AND lease_until <= :now ORDER BY id LIMIT :limit)"
                f" ) ORDER BY id LIMIT :limit)"
                f" RETURNING {_COLUMNS}",
                {"in_flight": IN_FLIGHT, "pending": PENDING, "now": now,
                 "lease": now + lease_s, "limit": limit},
            ).fetchall()
        # RETURNING order is unspecified in SQLite.
        rows.sort(key=lambda r: r[0])
        claimed: builtins.list[Envelope] = []
        for row in rows:
            try:
                claimed.append(self._envelope(row))
            except PayloadDecryptError as exc:
                # The key matched at open, so this row is damaged: hold it for staff instead of
                # letting it come back after every lease expiry and block the worker.
                self.park(row[0], str(exc))
        return claimed

    def ack(self, ids: Iterable[int] | Mapping[int, str]) -> int:
        """Mark delivered. Accepts pending/in-flight/parked: the server said it has them. A
        mapping gives each id the server's answer, kept with the envelope."""
        now = self._clock()
        answers = ids if isinstance(ids, Mapping) else dict.fromkeys(ids)
        with self._tx() as conn:
            cur = conn.executemany(
                "UPDATE envelopes SET status = ?, delivered_at = ?, lease_until = NULL,"
                " last_error = NULL, server_answer = COALESCE(?, server_answer)"
                " WHERE id = ? AND status != ?",
                [(DELIVERED, now, answer, i, DELIVERED) for i, answer in answers.items()],
            )
            return cur.rowcount

    def retry_later(self, id: int, error: str, delay_s: float) -> bool:
        # Only an in-flight row: a stale worker whose lease expired must not reschedule an
        # envelope that a newer worker already delivered.
        now = self._clock()
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE envelopes SET status = ?, attempts = attempts + 1, last_error = ?,"
                " server_answer = ?, next_attempt_at = ?, lease_until = NULL"
                " WHERE id = ? AND status = ?",
                (PENDING, error, error, now + max(0.0, delay_s), id, IN_FLIGHT),
            )
            return cur.rowcount == 1

    def park(self, id: int, error: str) -> bool:
        """Hold for staff. Parked envelopes are never purged or retried automatically."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE envelopes SET status = ?, attempts = attempts + 1, last_error = ?,"
                " server_answer = ?, lease_until = NULL WHERE id = ? AND status IN (?, ?)",
                (PARKED, error, error, id, PENDING, IN_FLIGHT),
            )
            return cur.rowcount == 1

    def unpark(self, id: int) -> bool:
        """Staff retry: a parked envelope becomes due now."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE envelopes SET status = ?, next_attempt_at = ? WHERE id = ? AND status = ?",
                (PENDING, self._clock(), id, PARKED),
            )
            return cur.rowcount == 1

    def unpark_all(self) -> int:
        """Staff retry of every parked envelope (after the cause was fixed): all due now."""
        with self._tx() as conn:
            return conn.execute(
                "UPDATE envelopes SET status = ?, next_attempt_at = ? WHERE status = ?",
                (PENDING, self._clock(), PARKED),
            ).rowcount

    def due_now(self) -> int:
        """Every pending envelope due now, whatever its backoff said (`kiosk queue drain`)."""
        now = self._clock()
        with self._tx() as conn:
            return conn.execute(
                "UPDATE envelopes SET next_attempt_at = ? WHERE status = ? AND next_attempt_at > ?",
                (now, PENDING, now),
            ).rowcount

    def undelivered(self) -> bool:
        """Whether anything is pending or in flight (one index probe, not a count)."""
        return self._conn().execute(
            "SELECT 1 FROM envelopes WHERE status IN (?, ?) LIMIT 1", (PENDING, IN_FLIGHT)
        ).fetchone() is not None

    def status_of(self, idempotency_key: str) -> str | None:
        """The status of one envelope by its key (pending, in_flight, delivered, parked); None
        when there is none (one probe of the key's unique index)."""
        row = self._conn().execute(
            "SELECT status FROM envelopes WHERE idempotency_key = ?", (idempotency_key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def next_due_at(self) -> float | None:
        """When the earliest pending envelope is due; None when none is pending."""
        (at,) = self._conn().execute(
            "SELECT MIN(next_attempt_at) FROM envelopes WHERE status = ?", (PENDING,)
        ).fetchone()
        return None if at is None else float(at)

    def stats(self) -> OutboxStats:
        conn = self._conn()
        counts = dict.fromkeys(STATUSES, 0)
        # One read transaction so counts and the oldest age describe the same snapshot.
        conn.execute("BEGIN")
        try:
            for status, n in conn.execute(
                "SELECT status, COUNT(*) FROM envelopes GROUP BY status"
            ):
                counts[status] = n
            (oldest,) = conn.execute(
                "SELECT MIN(created_at) FROM envelopes WHERE status IN (?, ?)",
                (PENDING, IN_FLIGHT),
            ).fetchone()
        finally:
            conn.execute("COMMIT")
        return OutboxStats(
            pending=counts[PENDING],
            in_flight=counts[IN_FLIGHT],
            delivered=counts[DELIVERED],
            parked=counts[PARKED],
            oldest_pending_age_s=None if oldest is None else max(0.0, self._clock() - oldest),
        )

    def integrity_problem(self) -> str | None:
        """What SQLite's quick check finds wrong with the database, or None."""
        try:
            rows = self._conn().execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as e:
            return str(e)
        found = [str(r[0]) for r in rows if r[0] != "ok"]
        return "; ".join(found[:3]) if found else None

    def purge_delivered(self, older_than_s: float) -> int:
        """Delete delivered envelopes acknowledged more than `older_than_s` ago."""
        with self._tx() as conn:
            cur = conn.execute(
                "DELETE FROM envelopes WHERE status = ? AND delivered_at <= ?",
                (DELIVERED, self._clock() - older_than_s),
            )
            return cur.rowcount

    def close(self) -> None:
        """Close this thread's connection; other threads' connections close when they exit."""
        self._connections.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Defined last: in the class body the name `list` shadows the builtin from here on.
    def list(self, status: str | None = None, limit: int = 100) -> builtins.list[Envelope]:
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._conn().execute(
            f"SELECT {_COLUMNS} FROM envelopes {where} ORDER BY id LIMIT ?", (*params, limit)
        ).fetchall()
        return [self._envelope(r) for r in rows]
