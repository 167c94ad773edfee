"""The audit log: JSON lines, one per event, every event and its fields declared once in
audit_events.toml (as vxsuite's log_event_details.toml), each record chained to the one before
it by a hash (audit_chain.py) and the chain signed now and then (audit_keys.py), so that a
changed, removed or reordered record shows (`kiosk audit verify`).

An event or a field that is not declared is a bug. Tests run the log strict, so it fails there;
in the field it is logged as an error and the event is still written, so that a typo never
costs a citizen their session.

Writing: each record is one `os.write` on a file opened O_APPEND, under an exclusive lock on
the file (other processes, e.g. `kiosk staff set-pin` next to the running kiosk, write to the
same log). A writer that finds the file changed since its last write (someone else wrote, or
a write was cut short) reads the tail again and chains to what is there; unreadable lines at
the end (a crash or a power cut mid-write) are left as they are, never rewritten, and noted by
an `audit_log_torn_tail` record chained to the last whole one. A full disk costs the events it
refuses (they stay in `recent` and the process log; an `audit_log_events_lost` record says how
many once there is room), never a session. Past `rotate_bytes` the file is renamed
`audit.jsonl.1`, `.2`, ... (audit_chain.py); the next record, in a new `audit.jsonl`, chains
to the last of the old one.

Checkpoints: given a signing key, the log signs the chain's end every `checkpoint_every`
records, on the first record `checkpoint_interval_s` or more after the last checkpoint, when
`checkpoint_if_due()` finds it time, and at close; the checkpoint is a record of its own
(`audit_checkpoint`), synced to disk before anyone hears of it, then handed to `on_checkpoint`
(the terminal sends it to the back office, which keeps what no one at the terminal can
rewrite), from a thread of its own: whoever recorded the event never waits on the disk.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import stat
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config.settings import Clock, SystemClock
from kiosk.records.audit_chain import GENESIS, read_tail, record_hash, rotated_name, segments

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger(__name__)

EVENTS_FILE = Path(__file__).with_name("audit_events.toml")
LEVELS = ("info", "warning", "alarm")
STRICT_ENV = "KIOSK_AUDIT_STRICT"
_PERSONAL_KEYS = {"id_number", "name", "address", "birth_date", "face", "photo"}
CHECKPOINT_EVENT = "audit_checkpoint"
CHECKPOINT_KIND = "audit.checkpoint"  # the envelope the terminal sends it in
ROTATE_BYTES = 8 * 1024 * 1024
CHECKPOINT_EVERY = 500
CHECKPOINT_INTERVAL_S = 3600.0


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


@dataclass(frozen=True)
class Checkpoint:
    """The chain signed up to record `seq`, whose hash is `hash`."""

    seq: int
    hash: str
    at: float
    signature: str  # base64 Ed25519 (audit_keys.py has the message)
    key_fingerprint: str

    def body(self, terminal_id: str) -> dict[str, object]:
        """The `audit.checkpoint` envelope's payload."""
        return {"terminal_id": terminal_id, "seq": self.seq, "hash": self.hash, "at": self.at,
                "signature": self.signature, "key_fingerprint": self.key_fingerprint}

    def idempotency_key(self, terminal_id: str) -> str:
        """The same checkpoint queued twice (a crash between) is one."""
        return f"{CHECKPOINT_KIND}:{terminal_id}:{self.key_fingerprint[:16]}:{self.seq}"


class AuditLog:
    def __init__(self, path: Path | None, clock: Clock | None = None, *,
                 strict: bool | None = None, rotate_bytes: int = ROTATE_BYTES,
                 checkpoint_every: int = CHECKPOINT_EVERY,
                 checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
                 signing_key: Ed25519PrivateKey | None = None,
                 on_checkpoint: Callable[[Checkpoint], None] | None = None) -> None:
        self._clock = clock or SystemClock()
        # The test suite sets KIOSK_AUDIT_STRICT=1 for itself and the processes it starts.
        self._strict = os.environ.get(STRICT_ENV) == "1" if strict is None else strict
        self._lock = threading.Lock()
        self.recent: list[dict[str, Any]] = []  # the last events, for the staff screen
        self._path = path
        self._rotate_bytes = rotate_bytes
        self._every = max(1, checkpoint_every)
        self._interval_s = checkpoint_interval_s
        self._key = signing_key
        self._fingerprint = ""
        if signing_key is not None:
            from kiosk.records.audit_keys import key_fingerprint

            self._fingerprint = key_fingerprint(signing_key)
        self._on_checkpoint = on_checkpoint
        self._seq, self._prev = 0, GENESIS  # where the chain ends
        self._since_checkpoint = 0
        self._checkpoint_at = self._clock.now()
        self._lost = 0  # events a full disk refused since the last write that went through
        self._settling: list[threading.Thread] = []  # checkpoints being synced and handed over
        self._end = -1  # the file's size after our last write; anything else: read the tail
        self._fd: int | None = None
        self._closed = path is None
        self._regular = False
        if path is not None:
            self._fd = _open_for_append(path)
            # /dev/full in a test, a pipe: written to, never read back, locked or rotated.
            self._regular = stat.S_ISREG(os.fstat(self._fd).st_mode)
            with self._lock:
                self._write([])  # continue the chain now; a torn tail is noted at once

    # -- recording ---------------------------------------------------------------------------

    def record(self, event: str, **fields: str | int | float | None) -> None:
        leaked = _PERSONAL_KEYS & fields.keys()
        if leaked:  # never written, strict or not
            raise ValueError(f"audit event {event} must not carry personal data: {leaked}")
        problem = check_event(event, set(fields))
        if problem is not None:
            if self._strict:
                raise UndeclaredAuditEvent(problem)
            log.error("%s (recorded all the same)", problem)
        entry = self._entry(event, **fields)
        with self._lock:
            self._write([entry])
            self.recent = [*self.recent[-199:], entry]
            signed = self._checkpoint_locked() if self._due() else None
            if signed is not None:
                # Its fsync and the hand-over (the outbox's own commit) cost milliseconds, more
                # on a kiosk's flash: not on the caller, who may be the UI thread under the
                # session's lock.
                thread = threading.Thread(target=self._settle, args=signed,
                                          name="audit-checkpoint", daemon=True)
                self._settling = [t for t in self._settling if t.is_alive()] + [thread]
                thread.start()

    def checkpoint_if_due(self) -> Checkpoint | None:
        """A checkpoint now if `checkpoint_interval_s` has passed since the last one and there
        is something new to sign (for a caller with a timer of its own)."""
        with self._lock:
            due = (self._since_checkpoint > 0
                   and self._clock.now() - self._checkpoint_at >= self._interval_s)
            signed = self._checkpoint_locked() if due else None
        if signed is None:
            return None
        self._settle(*signed)
        return signed[0]

    def close(self) -> None:
        for thread in list(self._settling):  # the checkpoints on their way first
            thread.join()
        with self._lock:
            signed = self._checkpoint_locked() if self._since_checkpoint else None
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except OSError:  # what a full disk would not take is lost, not the shutdown
                    log.exception("audit log could not be closed cleanly")
                self._fd = None
            self._closed = True
        for thread in list(self._settling):  # one a last record started meanwhile
            thread.join()
        if signed is not None:
            self._settle(*signed)

    # -- the chain ---------------------------------------------------------------------------

    def _entry(self, event: str, **fields: Any) -> dict[str, Any]:
        spec = declared_events().get(event)
        entry: dict[str, Any] = {"seq": 0, "at": self._clock.wall(), "event": event,
                                 "level": spec.level if spec else "alarm"}
        entry.update(fields)
        return entry

    def _due(self) -> bool:
        return self._key is not None and self._since_checkpoint > 0 and (
            self._since_checkpoint >= self._every
            or self._clock.now() - self._checkpoint_at >= self._interval_s)

    def _checkpoint_locked(self) -> tuple[Checkpoint, int | None] | None:
        """Write a checkpoint record: it, and a descriptor of the file it is in to fsync."""
        if self._key is None or self._seq == 0:
            return None
        entry = self._entry(CHECKPOINT_EVENT, signed_seq=0, signed_hash="", signature="",
                            key_fingerprint=self._fingerprint)
        if not self._write([entry]):
            return None  # the next checkpoint signs all this one would have
        self._since_checkpoint = 0
        self._checkpoint_at = self._clock.now()
        flush = None
        if self._regular and self._fd is not None:
            with contextlib.suppress(OSError):
                flush = os.dup(self._fd)  # its own: rotation or close may close ours meanwhile
        return Checkpoint(entry["signed_seq"], entry["signed_hash"], entry["at"],
                          entry["signature"], self._fingerprint), flush

    def _settle(self, checkpoint: Checkpoint, flush: int | None) -> None:
        """On disk first, then handed over: the back office never holds a checkpoint of
        records a power cut could still take from the log."""
        if flush is not None:
            try:
                os.fsync(flush)
            except OSError:
                log.exception("audit checkpoint %d could not be synced", checkpoint.seq)
                return
            finally:
                os.close(flush)
        if self._on_checkpoint is None:
            return
        try:
            self._on_checkpoint(checkpoint)
        except Exception:  # the next checkpoint covers this one: never a session's problem
            log.exception("audit checkpoint %d could not be handed over", checkpoint.seq)

    def _chain(self, entry: dict[str, Any]) -> tuple[int, str]:
        """Give `entry` its place after the chain's end: (its seq, its hash)."""
        seq = self._seq + 1
        if entry["event"] == CHECKPOINT_EVENT and self._key is not None:
            from kiosk.records.audit_keys import sign_checkpoint

            entry.update(signed_seq=self._seq, signed_hash=self._prev,
                         signature=sign_checkpoint(self._key, self._seq, self._prev))
        entry["seq"], entry["prev"] = seq, self._prev
        entry.pop("hash", None)
        entry["hash"] = record_hash(entry)
        return seq, entry["hash"]

    def _write(self, entries: list[dict[str, Any]]) -> bool:
        """Chain `entries` after what the log holds and append them in one write (under the
        caller's thread lock); False when the file refused them (they are not in the chain)."""
        saved = (self._seq, self._prev)
        if self._path is None:
            for entry in entries:  # in memory only: chained all the same
                self._seq, self._prev = self._chain(entry)
            self._since_checkpoint += len(entries)
            return True
        if self._closed:
            return False
        fd, size = self._fd, 0
        try:
            prefix = b""
            extra: list[dict[str, Any]] = []
            if fd is None:  # lost when the file could not be opened again
                fd = self._fd = _open_for_append(self._path)
            if self._regular:
                fd = self._lock_current()
                size = os.fstat(fd).st_size
                if size != self._end:
                    prefix, extra = self._resync()
                    size = os.fstat(fd).st_size
                if size + len(prefix) >= self._rotate_bytes and entries and not extra:
                    fd = self._rotate(fd)
                    prefix = b""
            if self._lost and entries:
                extra.append(self._entry("audit_log_events_lost", count=self._lost))
            todo = [*extra, *entries]
            if not todo and not prefix:
                return True
            for entry in todo:
                self._seq, self._prev = self._chain(entry)
            data = prefix + b"".join(
                (json.dumps(e, ensure_ascii=False) + "\n").encode("utf-8") for e in todo)
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write")
        except OSError:
            # A full disk must not stop a session from ending (and being wiped): the event
            # stays in `recent` and in the process log; whatever part of it reached the file is
            # found, and noted, by the next write.
            self._seq, self._prev = saved
            self._end = -1
            self._lost += sum(1 for e in entries if e["event"] != CHECKPOINT_EVENT)
            log.exception("audit log write failed for %s",
                          ", ".join(e["event"] for e in entries) or "its tail")
            return False
        finally:
            if self._regular and fd is not None:
                self._unlock(fd)
        if entries:
            self._lost = 0
        self._since_checkpoint += len(todo)
        self._end = (size + written) if self._regular else -1
        return True

    # -- the file ----------------------------------------------------------------------------

    def _lock_current(self) -> int:
        """Lock the file now at the path (another process may have rotated ours away)."""
        assert self._path is not None and self._fd is not None
        while True:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            mine = os.fstat(self._fd)
            try:
                there = self._path.stat()
                if (there.st_ino, there.st_dev) == (mine.st_ino, mine.st_dev):
                    return self._fd
            except FileNotFoundError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd, self._end = None, -1
            self._fd = _open_for_append(self._path)

    def _unlock(self, fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _resync(self) -> tuple[bytes, list[dict[str, Any]]]:
        """Go on from the log's last whole record; what to write first: a newline ending a
        cut-short line, and a note of the unreadable lines."""
        assert self._path is not None
        tail = read_tail(self._path)
        if tail.last is not None:
            self._seq, self._prev = tail.last["seq"], tail.last["hash"]
        else:
            self._seq, self._prev = 0, GENESIS
        prefix = b"\n" if tail.unterminated else b""
        notes = []
        if tail.torn_lines:
            log.warning("audit log %s ends with %d unreadable line(s) (%d bytes): left as they "
                        "are, the chain goes on from seq %d", tail.torn_file, tail.torn_lines,
                        tail.torn_bytes, self._seq)
            notes.append(self._entry("audit_log_torn_tail", segment=tail.torn_file,
                                     lines=tail.torn_lines, bytes=tail.torn_bytes))
        return prefix, notes

    def _rotate(self, fd: int) -> int:
        """Rename the full file to the next segment number and go on in a new one (the lock
        on the old one is held until the new one is locked too)."""
        assert self._path is not None
        numbers = [n for n, _ in segments(self._path) if n is not None]
        target = rotated_name(self._path, max(numbers, default=0) + 1)
        self._path.rename(target)  # numbered past every segment there: replaces none
        fresh = _open_for_append(self._path)
        old = os.fstat(fd)
        with contextlib.suppress(OSError):  # rotated by root (a CLI): still the kiosk's file
            if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                os.fchown(fresh, old.st_uid, old.st_gid)
        fcntl.flock(fresh, fcntl.LOCK_EX)
        self._unlock(fd)
        os.close(fd)
        self._fd = fresh
        log.info("audit log rotated to %s at seq %d", target.name, self._seq)
        return fresh


def _open_for_append(path: Path) -> int:
    """The log's file for appending, made 0600 (its records are the terminal's alone)."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
