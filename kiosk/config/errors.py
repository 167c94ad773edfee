"""Errors that stop the kiosk at start with one line a technician can act on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

Loc = tuple[int | str, ...]


class ConfigError(Exception):
    """A profile, catalogue or setting is wrong; the message names file, key and problem."""


def describe_validation_error(
    path: Path | str, error: ValidationError, where: Callable[[Loc], Loc] | None = None
) -> str:
    """One line: `file: key.path: problem (+N more problems)`. `where` rewrites a location
    into the key the file's author wrote."""
    errors = error.errors()
    first = errors[0]
    loc: Loc = tuple(first["loc"])
    loc = where(loc) if where else loc
    msg = first["msg"]
    kind = first["type"]
    if kind == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    elif kind == "missing":
        msg = "required key is missing"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        # A tagged union (devices.<kind>): the tag is the `adapter` key.
        ctx = first.get("ctx") or {}
        loc = (*loc, str(ctx.get("discriminator", "adapter")).strip("'"))
        msg = (f"unknown adapter {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
               if kind == "union_tag_invalid" else "required key is missing")
    key = ".".join(str(p) for p in loc) or "(top level)"
    more = f" (+{len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{path}: {key}: {msg}{more}"
