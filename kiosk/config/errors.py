"""Errors that stop the kiosk at start with one line a technician can act on."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class ConfigError(Exception):
    """A profile, catalogue or setting is wrong; the message names file, key and problem."""


def describe_validation_error(path: Path | str, error: ValidationError) -> str:
    """One line: `file: key.path: problem (+N more problems)`."""
    errors = error.errors()
    first = errors[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    elif first["type"] == "missing":
        msg = "required key is missing"
    more = f" (+{len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{path}: {key}: {msg}{more}"
