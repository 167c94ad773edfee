"""SQLite as the outbox uses it: durable commits, explicit write transactions, one connection
per thread. Anything else that must survive a power cut (the locker inventory) opens its
database through here, so it is exactly as durable as the outbox."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """`shared`: one connection for every thread, which the caller serialises with a lock."""
    # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) so no statement ever runs
    # inside a half-open implicit transaction that Python's sqlite3 opened for us.
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0,
                           check_same_thread=not shared)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL, not NORMAL: with NORMAL a power cut lost committed rows (FIELD_NOTES).
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA journal_size_limit=8388608")
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    # IMMEDIATE takes the write lock up front; a deferred read-then-write transaction can
    # fail with SQLITE_BUSY_SNAPSHOT when another connection commits in between.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class ThreadConnections:
    """One connection per thread (sqlite3 connections must not be shared between threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.closed = False

    def get(self) -> sqlite3.Connection:
        if self.closed:
            raise RuntimeError(f"{self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection; other threads' connections close when they exit."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self.closed = True
