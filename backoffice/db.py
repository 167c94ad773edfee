"""The reference back office's own SQLite files: durable (WAL, synchronous=FULL), shared by
its handler threads under the caller's lock, readable by the back office only (0600)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def create_private(path: Path) -> None:
    """The database file made 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the database file's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)


def open_private(path: Path, schema: str) -> sqlite3.Connection:
    create_private(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn
