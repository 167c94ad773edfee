"""The audit log's hash chain, shared by its writer (audit.py) and its checker
(audit_verify.py, `kiosk audit verify`).

A record is one JSON object on one line. Besides its event (`at`, `event`, `level` and the
event's declared fields) it carries `seq` (1, 2, ... over the whole log, across rotations),
`prev` (the previous record's `hash`; GENESIS for the first) and `hash`: hex SHA-256 of the
record without `hash`, serialised canonically (sorted keys, no spaces, UTF-8 with non-ASCII
as itself). The line on disk keeps JSON's usual spacing, so what people grep for still
matches; the hash never depends on how the line is spaced.

Segments: the log is `audit.jsonl`; once it passes its size it is renamed `audit.jsonl.1`,
the next time `audit.jsonl.2`, and so on, numbered in the order they were made and never
renamed again (history is not rewritten). Oldest first: .1, .2, ..., .N, then audit.jsonl.
The first record of a new file chains to the last of the one before it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64  # the `prev` of the first record there ever was
CHAIN_KEYS = ("seq", "prev", "hash")
_BLOCK = 64 * 1024


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes a record's hash is taken over: the record without `hash`."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def is_chained(doc: object) -> bool:
    """Whether `doc` is a record of the chain (it has seq, prev and hash of the right kinds)."""
    return (isinstance(doc, dict) and type(doc.get("seq")) is int
            and isinstance(doc.get("prev"), str) and isinstance(doc.get("hash"), str))


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """The JSON object on a line, or None when the line is not one (cut short, garbage)."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def segments(path: Path) -> list[tuple[int | None, Path]]:
    """The log's files that exist, oldest first: (number, path) of each rotated segment, then
    (None, path) of the current file."""
    pattern = re.compile(re.escape(path.name) + r"\.([1-9][0-9]*)")
    numbered = []
    try:
        for entry in path.parent.iterdir():
            found = pattern.fullmatch(entry.name)
            if found:
                numbered.append((int(found.group(1)), entry))
    except FileNotFoundError:
        pass
    listed: list[tuple[int | None, Path]] = [(n, p) for n, p in sorted(numbered)]
    if path.exists():
        listed.append((None, path))
    return listed


def rotated_name(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


@dataclass(frozen=True)
class Tail:
    """What the end of the log holds, for the writer to go on from."""

    last: dict[str, Any] | None  # the last whole record of the chain; None: there is none
    torn_file: str | None = None  # the file whose last lines are unreadable
    torn_lines: int = 0  # how many (a write cut short leaves one)
    torn_bytes: int = 0
    unterminated: bool = False  # the current file does not end with a newline


def _scan_back(path: Path, skip_torn: bool) -> tuple[dict[str, Any] | None, int, int, bool]:
    """(last chained record, unreadable lines after the last readable one, their bytes,
    whether the file ends without a newline). Reads back from the end a block at a time: a
    record is a few hundred bytes, so one block is nearly always enough."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        window = _BLOCK
        while True:
            start = max(0, size - window)
            f.seek(start)
            data = f.read(size - start)
            unterminated = bool(data) and not data.endswith(b"\n")
            lines = data.split(b"\n")
            if not unterminated:
                lines.pop()  # what follows the last newline: nothing
            complete = lines if start == 0 else lines[1:]  # the first may be cut by the window
            torn_lines = torn_bytes = 0
            counting = skip_torn
            for raw in reversed(complete):
                doc = parse_line(raw)
                if doc is None:
                    if counting:
                        torn_lines, torn_bytes = torn_lines + 1, torn_bytes + len(raw)
                    continue
                counting = False  # unreadable lines above a readable one are not the tail's
                if is_chained(doc):
                    return doc, torn_lines, torn_bytes, unterminated
            if start == 0:
                return None, torn_lines, torn_bytes, unterminated
            window *= 4


def read_tail(path: Path) -> Tail:
    """Where the chain ends: the last whole record in the current file or, when it has none
    (just rotated, or a new log), in the newest segment that has one; and any unreadable lines
    at the very end of the log (in its newest non-empty file)."""
    torn_file: str | None = None
    torn_lines = torn_bytes = 0
    unterminated = False
    seen_content = False
    for number, file in reversed(segments(path)):
        try:
            if file.stat().st_size == 0:
                continue
            last, lines, size, open_end = _scan_back(file, skip_torn=not seen_content)
        except FileNotFoundError:
            continue
        if not seen_content:
            seen_content = True
            torn_file, torn_lines, torn_bytes = file.name, lines, size
            unterminated = open_end and number is None
        if last is not None:
            return Tail(last, torn_file if torn_lines else None, torn_lines, torn_bytes,
                        unterminated)
    return Tail(None, torn_file if torn_lines else None, torn_lines, torn_bytes, unterminated)
