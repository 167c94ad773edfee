"""The reference back office's own SQLite files: durable (WAL, synchronous=FULL), shared by
its handler threads under the caller's lock, readable by the back office only (0600)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_private(path: Path, schema: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    path.chmod(0o600)
    return conn
