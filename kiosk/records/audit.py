"""The audit log: JSON lines, one per event, every event and its fields declared once in
audit_events.toml (as vxsuite's log_event_details.toml).

An event or a field that is not declared is a bug. Tests run the log strict, so it fails there;
in the field it is logged as an error and the event is still written, so that a typo never
costs a citizen their session.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kiosk.config.settings import Clock, SystemClock

log = logging.getLogger(__name__)

EVENTS_FILE = Path(__file__).with_name("audit_events.toml")
LEVELS = ("info", "warning", "alarm")
STRICT_ENV = "KIOSK_AUDIT_STRICT"
_PERSONAL_KEYS = {"id_number", "name", "address", "birth_date", "face", "photo"}


class UndeclaredAuditEvent(KeyError):
    """An event, or a field of one, that audit_events.toml does not declare."""


@dataclass(frozen=True)
class EventSpec:
    name: str
    level: str
    description: str
    fields: frozenset[str]


@cache
def declared_events() -> dict[str, EventSpec]:
    raw = tomllib.loads(EVENTS_FILE.read_text(encoding="utf-8"))
    specs = {}
    for name, spec in raw.items():
        if spec.get("level") not in LEVELS or not isinstance(spec.get("fields"), list):
            raise ValueError(f"{EVENTS_FILE.name}: [{name}] needs level and fields")
        leaked = _PERSONAL_KEYS & set(spec["fields"])
        if leaked:
            raise ValueError(f"{EVENTS_FILE.name}: [{name}] declares personal data {leaked}")
        specs[name] = EventSpec(name, spec["level"], spec.get("description", ""),
                                frozenset(spec["fields"]))
    return specs


def check_event(event: str, fields: set[str] | frozenset[str]) -> str | None:
    """What is wrong with recording `event` with these fields, or None."""
    spec = declared_events().get(event)
    if spec is None:
        return f"audit event {event!r} is not declared in {EVENTS_FILE.name}"
    if fields != spec.fields:
        extra, missing = sorted(fields - spec.fields), sorted(spec.fields - fields)
        return (f"audit event {event!r} takes fields {sorted(spec.fields)}"
                f"{f'; undeclared {extra}' if extra else ''}"
                f"{f'; missing {missing}' if missing else ''}")
    return None


class AuditLog:
    def __init__(self, path: Path | None, clock: Clock | None = None, *,
                 strict: bool | None = None) -> None:
        self._clock = clock or SystemClock()
        # The test suite sets KIOSK_AUDIT_STRICT=1 for itself and the processes it starts.
        self._strict = os.environ.get(STRICT_ENV) == "1" if strict is None else strict
        self._lock = threading.Lock()
        self.recent: list[dict[str, Any]] = []  # the last events, for the staff screen
        # Opened once, line-buffered: every event reaches the file as it happens.
        self._file = path.open("a", encoding="utf-8", buffering=1) if path else None

    def record(self, event: str, **fields: str | int | float | None) -> None:
        leaked = _PERSONAL_KEYS & fields.keys()
        if leaked:  # never written, strict or not
            raise ValueError(f"audit event {event} must not carry personal data: {leaked}")
        problem = check_event(event, set(fields))
        if problem is not None:
            if self._strict:
                raise UndeclaredAuditEvent(problem)
            log.error("%s (recorded all the same)", problem)
        spec = declared_events().get(event)
        entry: dict[str, Any] = {"at": self._clock.wall(), "event": event,
                                 "level": spec.level if spec else "alarm"}
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
                try:
                    self._file.close()
                except OSError:  # what a full disk would not take is lost, not the shutdown
                    log.exception("audit log could not be closed cleanly")
                self._file = None
