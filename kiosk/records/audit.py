"""The audit log: JSON lines, one per event, events declared once in audit_events.toml."""

from __future__ import annotations

import json
import logging
import threading
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from kiosk.config.settings import Clock, SystemClock

log = logging.getLogger(__name__)

EVENTS_FILE = Path(__file__).with_name("audit_events.toml")
_PERSONAL_KEYS = {"id_number", "name", "address", "birth_date", "face", "photo"}


@cache
def declared_events() -> dict[str, dict[str, str]]:
    return tomllib.loads(EVENTS_FILE.read_text(encoding="utf-8"))


class AuditLog:
    def __init__(self, path: Path | None, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self.recent: list[dict[str, Any]] = []  # the last events, for the staff screen
        # Opened once, line-buffered: every event reaches the file as it happens.
        self._file = path.open("a", encoding="utf-8", buffering=1) if path else None

    def record(self, event: str, **fields: str | int | float | None) -> None:
        spec = declared_events().get(event)
        if spec is None:
            raise KeyError(f"audit event {event!r} is not declared in {EVENTS_FILE.name}")
        leaked = _PERSONAL_KEYS & fields.keys()
        if leaked:
            raise ValueError(f"audit event {event} must not carry personal data: {leaked}")
        entry: dict[str, Any] = {"at": self._clock.wall(), "event": event, "level": spec["level"]}
        entry.update(fields)
        with self._lock:
            self.recent = [*self.recent[-199:], entry]
            if self._file is not None:
                try:
                    self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                except OSError:
                    # A full disk must not stop a session from ending (and being wiped):
                    # the event stays in `recent` and in the process log.
                    log.exception("audit log write failed for %s", event)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
