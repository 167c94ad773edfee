"""A profile's data written back as TOML, with comments for the technician.

The standard library reads TOML but does not write it; a profile needs little of it (strings,
numbers, booleans, arrays, tables, arrays of tables), and writing it here keeps the layout a
profile is read in: top-level tables, one `[devices.<kind>]` table per device (arrays of them
for kinds fitted several times), small tables of plain values inline (`name = { zh = ...,
en = ... }`). `comments_of` lifts the comments of the profile it started from, so the ones
that still describe something stay with it.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
HEX_KEYS = {"usb_vendor", "usb_product"}  # ids read in hex everywhere else (lsusb)
INLINE_WIDTH = 100
COMMENT_WIDTH = 96
Path_ = tuple[str, ...]
Comments = Mapping[Path_, Sequence[str]]  # a key or table's path -> comment lines above it


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else _string(key)


def _string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def value(v: Any, key: str = "") -> str:
    """One TOML value (inline)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"0x{v:04x}" if key in HEX_KEYS and v >= 0 else str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, Mapping):
        inner = ", ".join(f"{_key(k)} = {value(x, k)}" for k, x in v.items() if x is not None)
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(v, list | tuple):
        items = [value(x) for x in v]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= INLINE_WIDTH:
            return one_line
        return "[\n" + "".join(f"  {item},\n" for item in items) + "]"
    raise TypeError(f"no TOML for {type(v).__name__}")


def _tables(v: Any) -> bool:
    """Written as [[tables]]: a non-empty list of tables."""
    return isinstance(v, list | tuple) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _is_table(v: Any, depth: int, siblings: Mapping[str, Any]) -> bool:
    """Written as a [table] rather than inline: every top-level one, the members of a table of
    tables (devices), and any holding tables of its own."""
    if not isinstance(v, Mapping):
        return False
    if depth == 0 or all(isinstance(s, Mapping) or _tables(s) for s in siblings.values()):
        return True
    return any(isinstance(x, Mapping) or _tables(x) for x in v.values())


def _comment(lines: list[str], comments: Comments, path: Path_) -> None:
    for text in comments.get(path, ()):
        wrapped = textwrap.wrap(text, COMMENT_WIDTH, break_long_words=False,
                                break_on_hyphens=False) or [""]
        lines.extend(f"# {w}".rstrip() for w in wrapped)


def _body(data: Mapping[str, Any], path: Path_, comments: Comments, lines: list[str]) -> None:
    depth = len(path)
    tables: list[tuple[str, Any]] = []
    for key, v in data.items():
        if v is None:
            continue  # TOML has no null: an unset key is left out
        if _is_table(v, depth, data) or _tables(v):
            tables.append((key, v))
            continue
        if comments.get((*path, key)) and lines and lines[-1] and not lines[-1].startswith("["):
            lines.append("")  # a comment is about the key below it, not the one above
        _comment(lines, comments, (*path, key))
        lines.append(f"{_key(key)} = {value(v, key)}")
    for key, v in tables:
        sub = (*path, key)
        header = ".".join(_key(p) for p in sub)
        if isinstance(v, Mapping):
            lines.append("")
            _comment(lines, comments, sub)
            if _keys_of_its_own(v, depth + 1) or not v:
                lines.append(f"[{header}]")  # else its tables' headers say it: [devices.x]
            _body(v, sub, comments, lines)
        else:
            for i, item in enumerate(v):
                lines.append("")
                if i == 0:
                    _comment(lines, comments, sub)
                lines.append(f"[[{header}]]")
                # A comment above the first of them is about them all.
                _body(item, sub, comments if i == 0 else {}, lines)


def _keys_of_its_own(table: Mapping[str, Any], depth: int) -> bool:
    return any(v is not None and not (_is_table(v, depth, table) or _tables(v))
               for v in table.values())


def dumps(data: Mapping[str, Any], comments: Comments | None = None,
          header: Sequence[str] = ()) -> str:
    """`data` as TOML that tomllib reads back equal (None values left out)."""
    lines: list[str] = []
    _comment(lines, {(): header}, ())
    if lines:
        lines.append("")
    _body(data, (), comments or {}, lines)
    text = "\n".join(lines).lstrip("\n")
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


HEADER_LINE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def comments_of(text: str) -> dict[Path_, list[str]]:
    """The comment lines written right above each table header or key of a TOML text, by the
    path of what they describe. Only simple headers and bare keys are understood; a comment
    above anything else is dropped (they are the technician's help, not data)."""
    found: dict[Path_, list[str]] = {}
    pending: list[str] = []
    table: Path_ = ()
    depth = 0  # inside a multi-line array
    for line in text.splitlines():
        stripped = line.strip()
        if depth:
            depth += stripped.count("[") - stripped.count("]")
            continue
        if stripped.startswith("#"):
            pending.append(stripped[1:].strip())
            continue
        if not stripped:
            pending = []  # a blank line ends a comment block: it was about what came before
            continue
        header = HEADER_LINE.match(line)
        if header:
            table = tuple(p.strip().strip('"') for p in header.group(2).split("."))
            if pending:
                found.setdefault(table, pending)
        else:
            key = KEY_LINE.match(line)
            if key and pending:
                found.setdefault((*table, key.group(1)), pending)
            rest = line.split("=", 1)[1] if "=" in line else ""
            depth = max(0, rest.count("[") - rest.count("]"))
        pending = []
    return found
