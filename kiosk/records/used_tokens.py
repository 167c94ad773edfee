"""The identity QR tokens used on this terminal, until they expire, in SQLite as durable as the
outbox: a token shown once is refused when shown again, also after a restart or a power cut.
Only the tokens' random ids are kept, nothing of the citizen."""

from __future__ import annotations

from pathlib import Path

from offline_queue import durable


class UsedTokenStore:
    def __init__(self, path: Path) -> None:
        self._db = durable.ThreadConnections(path)
        with durable.write_transaction(self._db.get()) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS used_tokens"
                         " (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL)")

    def first_use(self, jti: str, expires_at: float, now: float) -> bool:
        with durable.write_transaction(self._db.get()) as conn:
            conn.execute("DELETE FROM used_tokens WHERE expires_at < ?", (now,))
            cur = conn.execute("INSERT INTO used_tokens (jti, expires_at) VALUES (?, ?)"
                               " ON CONFLICT DO NOTHING", (jti, expires_at))
            return cur.rowcount == 1

    def close(self) -> None:
        self._db.close()
