"""Where the reference back office keeps its records: SQLite files in its data directory (the
embedded default: WAL, synchronous=FULL, 0600) or one PostgreSQL database that several
back-office processes share (`kiosk backoffice --database postgresql://...`).

The stores write SQL both engines take (`?` placeholders, `ON CONFLICT`, partial unique
indexes) and run every change through `Database.run`, one transaction that is tried again
when another process got in first (a unique key taken, a serialization failure): the
database's unique keys, not a lock in one process, are what keep an envelope, a serial
number or a pickup code from being had twice.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 8


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...


class Conflict(Exception):
    """Another writer got in first: the transaction is tried again from the start."""


class Database(Protocol):
    dialect: str  # "sqlite" or "postgresql"

    def run(self, work: Callable[[Tx], T]) -> T:
        """`work` in one transaction, tried again (from the start) when it conflicts."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one read."""
        ...

    def schema(self, ddl: str) -> None:
        """Statements separated by `;`, `{id}` standing for an auto-numbered primary key."""
        ...

    def columns(self, table: str) -> set[str]: ...

    def close(self) -> None: ...


def insert_returning(tx: Tx, insert: str, rows: Iterable[Sequence[Any]],
                     tail: str) -> set[Any]:
    """A multi-row INSERT (one statement for a batch); the first column of what its `tail`
    (`... RETURNING col`) returns, as a set. No rows: no statement."""
    listed = list(rows)
    if not listed:
        return set()
    marks = "(" + ", ".join("?" * len(listed[0])) + ")"
    values = ", ".join([marks] * len(listed))
    flat = tuple(v for row in listed for v in row)
    return {r[0] for r in tx.execute(f"{insert} VALUES {values} {tail}", flat).fetchall()}


def create_private(path: Path) -> None:
    """The database file made 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the database file's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)


class SqliteDatabase:
    """One connection behind a lock: the server's workers share it, and a connection per
    request would pay its PRAGMAs each time. Write transactions are IMMEDIATE, so another
    process on the same file waits its turn instead of failing half-way."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        create_private(path)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=5.0,
                                     check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=5000",
                       "journal_size_limit=8388608"):
            self._conn.execute(f"PRAGMA {pragma}")

    def run(self, work: Callable[[Tx], T]) -> T:
        with self._lock:
            for attempt in range(RETRIES):
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(self._conn)  # type: ignore[arg-type]
                except BaseException as e:
                    self._conn.execute("ROLLBACK")
                    if isinstance(e, Conflict | sqlite3.IntegrityError) and \
                            attempt < RETRIES - 1:
                        continue
                    raise
                self._conn.execute("COMMIT")
                return result
        raise AssertionError("unreachable")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def schema(self, ddl: str) -> None:
        with self._lock:
            self._conn.executescript(ddl.replace("{id}", "INTEGER PRIMARY KEY"))

    def columns(self, table: str) -> set[str]:
        with self._lock:
            return {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cur: Cursor = self._conn.execute(sql.replace("?", "%s"), tuple(params))
        return cur


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database (psycopg 3). Transactions are READ
    COMMITTED; what must be had once is guarded by unique keys, and a transaction that meets
    one taken meanwhile (or a serialization failure, or a deadlock) is tried again."""

    dialect = "postgresql"

    def __init__(self, url: str, *, max_connections: int = 16) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self._errors = psycopg.errors
        self.url = url
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False,
                                    kwargs={"autocommit": True}, name="backoffice")
        try:
            self._pool.open(wait=True, timeout=10)
        except Exception as e:
            self._pool.close()
            raise ConnectionError(f"PostgreSQL at {redact(url)}: {e}") from e

    def _retryable(self, e: BaseException) -> bool:
        errors = self._errors
        return isinstance(e, Conflict | errors.UniqueViolation | errors.SerializationFailure
                          | errors.DeadlockDetected)

    def run(self, work: Callable[[Tx], T]) -> T:
        for attempt in range(RETRIES):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    return work(_PgTx(conn))
            except Exception as e:
                if self._retryable(e) and attempt < RETRIES - 1:
                    log.debug("transaction tried again after %s", type(e).__name__)
                    continue
                raise
        raise AssertionError("unreachable")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._pool.connection() as conn:
            return list(conn.execute(sql.replace("?", "%s"), tuple(params)).fetchall())

    def schema(self, ddl: str) -> None:
        ddl = ddl.replace("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
        ddl = ddl.replace(" REAL", " DOUBLE PRECISION").replace(" BLOB", " BYTEA")
        with self._pool.connection() as conn, conn.transaction():
            # Two processes starting at once must not both create the same table.
            conn.execute("SELECT pg_advisory_xact_lock(864001)")
            for statement in (s.strip() for s in ddl.split(";")):
                if statement:
                    conn.execute(statement)

    def columns(self, table: str) -> set[str]:
        return {row[0] for row in self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            (table,))}

    def close(self) -> None:
        self._pool.close()


def redact(url: str) -> str:
    """A database URL with its password left out, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Databases:
    """The back office's stores: each its own SQLite file in the data directory, or all in
    one PostgreSQL database."""

    def __init__(self, data_dir: Path, url: str | None = None) -> None:
        self.data_dir = data_dir
        self.url = url
        self._shared: PostgresDatabase | None = PostgresDatabase(url) if url else None
        self._opened: list[SqliteDatabase] = []

    def open(self, sqlite_file: str) -> SqliteDatabase | PostgresDatabase:
        if self._shared is not None:
            return self._shared
        db = SqliteDatabase(self.data_dir / sqlite_file)
        self._opened.append(db)
        return db

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()
        for db in self._opened:
            db.close()
