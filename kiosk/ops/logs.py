"""The process log: plain lines for a person at a terminal, or JSON lines for the machine that
collects a fleet's logs (journald, a log shipper).

The rule: `KIOSK_LOG_FORMAT=json` gives JSON lines, anything else (or nothing) plain lines.
An explicit switch rather than "stderr is not a TTY": a technician piping `kiosk queue status
2>&1 | less` wants to read it, and a service unit sets it (`Environment=KIOSK_LOG_FORMAT=json`)
where a collector reads the log. Each JSON line is one object: `time` (UTC, ISO 8601 with
milliseconds), `level`, `logger`, `message`, and `exception` (the traceback's text) when there
is one. Nothing is added from the record beyond these: what the code logs is what is sent, and
the code logs no personal data (tests/test_no_personal_data.py plants canary citizens to make
sure).

Kivy's start-up banner (its INFO lines) is left out in both formats.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import TextIO

FORMAT_ENV = "KIOSK_LOG_FORMAT"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a line; a message with newlines in it stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _utc(created: float) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{whole}.{int(created % 1 * 1000):03d}Z"


def quiet_kivy(record: logging.LogRecord) -> bool:
    """Kivy's INFO lines (its start-up banner) are noise in a kiosk's log; its warnings not."""
    return record.levelno >= logging.WARNING or not record.name.startswith("kivy")


def wants_json(env: dict[str, str] | os._Environ[str] | None = None) -> bool:
    return (os.environ if env is None else env).get(FORMAT_ENV, "").strip().lower() == "json"


def configure_logging(stream: TextIO | None = None, *, level: int = logging.INFO,
                      json_lines: bool | None = None) -> logging.Handler:
    """The root logger writes to `stream` (stderr) in the format the environment asks for
    (json_lines=None: KIOSK_LOG_FORMAT); returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    use_json = wants_json() if json_lines is None else json_lines
    handler.setFormatter(JsonLinesFormatter() if use_json else logging.Formatter(PLAIN_FORMAT))
    handler.addFilter(quiet_kivy)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
