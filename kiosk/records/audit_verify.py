"""Checking the audit log's chain (`kiosk audit verify`): every segment in order, every record's
hash, every link, every checkpoint's signature. Reports each problem with where it is (file,
line, seq) and what it means.

Problems (any of them fails the check):
- `changed`: a record's hash does not match what it says (a field was edited);
- `chain_broken`: a record's `prev` is not the hash of the record before it (that one was
  replaced, or re-hashed after an edit, or this one was);
- `removed`: records missing inside a file (a gap in `seq`);
- `reordered`: a record out of order (its seq is not the one after the record before it, and
  the seqs in between are elsewhere in the log);
- `missing_segment`: a rotated file missing (a gap in the numbering, or in `seq` between two
  files), the current file missing, or a log that does not begin at seq 1;
- `unreadable`: a line that is not a record, in the middle of the log and not noted by the
  terminal as a torn tail;
- `unchained`: a record without seq/prev/hash after the chain began (inserted), or a log none
  of whose records is chained (stripped of its chain);
- `torn_tail`: the log ends with a line cut short. A write cut short by a crash or a power cut
  leaves exactly this, and so does a truncation: from the disk alone they cannot be told apart,
  so it fails until the terminal opens its log again. The terminal then notes it
  (`audit_log_torn_tail`, chained to the last whole record) and the check passes with a note:
  the chain from then on vouches for it;
- `checkpoint_mismatch`: a checkpoint that signs something other than the record before it;
- `bad_signature`: a checkpoint whose signature fails against the key;
- `unknown_key`: a checkpoint signed by another key than the one checked against;
- `no_key`: checkpoints, and no key to check them with;
- `unsigned_run`: more records in a row without a checkpoint than the terminal ever writes
  (it signs every CHECKPOINT_EVERY; UNSIGNED_LIMIT is twice that): checkpoints were taken
  out, and the chain re-hashed;
- `not_as_signed` / `cut_off`: compared with the checkpoints the back office holds
  (`--against-backoffice`): the record a checkpoint signed is not there as signed (the log
  was rewritten since), or is not there at all (the log was cut off at a record boundary).

Notes (reported, not failures): `torn_tail_noted` (above) and `before_chain`: lines written
before the log was chained (a terminal upgraded from an unchained log), which nothing vouches
for.

A truncation at a record boundary (the last records removed whole), or a rewrite re-chained
with the terminal's own key, leaves a chain that is intact on the disk: only the checkpoints
the back office holds (GET /v1/audit-checkpoints, `held`) show what the log said when it was
signed.
"""

from __future__ import annotations

import fcntl
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.records.audit import CHECKPOINT_EVERY
from kiosk.records.audit_chain import GENESIS, is_chained, parse_line, record_hash, segments

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CHECKPOINT_EVENT = "audit_checkpoint"
UNSIGNED_LIMIT = 2 * CHECKPOINT_EVERY

TORN_EVENT = "audit_log_torn_tail"


@dataclass
class Problem:
    kind: str
    file: str | None
    line: int | None
    seq: int | None
    detail: str

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None) or "log"
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"{where}{seq}: {self.kind}: {self.detail}"


@dataclass
class SegmentSummary:
    file: str
    lines: int
    records: int
    first_seq: int | None
    last_seq: int | None


@dataclass
class Report:
    records: int = 0
    segments: list[SegmentSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "checkpoints": self.checkpoints,
                "segments": [asdict(s) for s in self.segments],
                "problems": [asdict(p) for p in self.problems],
                "notes": [asdict(n) for n in self.notes]}


@dataclass
class _Line:
    file: str
    number: int  # 1-based, in its file
    doc: dict[str, Any] | None  # None: not a record at all
    size: int

    @property
    def seq(self) -> int | None:
        return self.doc["seq"] if self.doc is not None and is_chained(self.doc) else None


def _read_lines(path: Path) -> list[_Line]:
    with path.open("rb") as f:
        data = f.read()
    pieces = data.split(b"\n")
    if data.endswith(b"\n"):
        pieces.pop()
    return [_Line(path.name, i, parse_line(raw), len(raw))
            for i, raw in enumerate(pieces, start=1)] if data else []


@contextmanager
def _held(path: Path) -> Iterator[None]:
    """A shared lock on the log's current file while it is read: writers append and rotate
    under an exclusive one, so no half-written record and no segment renamed mid-check."""
    while True:
        try:
            f = path.open("rb")
        except FileNotFoundError:
            yield
            return
        with f:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH)
            try:
                if path.exists() and path.stat().st_ino == os.fstat(f.fileno()).st_ino:
                    yield
                    return
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class _Checker:
    def __init__(self, public_key: Ed25519PublicKey | None) -> None:
        self.report = Report()
        self.hashes: dict[int, tuple[_Line, str]] = {}  # seq -> its record and hash
        self.key = public_key
        self.fingerprint: str | None = None
        if public_key is not None:
            from kiosk.records.audit_keys import key_fingerprint

            self.fingerprint = key_fingerprint(public_key)

    def problem(self, kind: str, line: _Line | None, detail: str, *,
                file: str | None = None, note: bool = False) -> None:
        where = Problem(kind, line.file if line else file, line.number if line else None,
                        line.seq if line else None, detail)
        (self.report.notes if note else self.report.problems).append(where)

    def check(self, path: Path) -> Report:
        with _held(path):
            return self._check(path)

    def _check(self, path: Path) -> Report:
        files = segments(path)
        numbers = [n for n, _ in files if n is not None]
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        for n in missing:
            self.problem("missing_segment", None, "this rotated file of the log is missing",
                         file=f"{path.name}.{n}")
        if numbers and files[-1][0] is not None:
            self.problem("missing_segment", None, "the current file of the log is missing",
                         file=path.name)
        lines: list[_Line] = []
        for _, file in files:
            read = _read_lines(file)
            lines.extend(read)
            records = [ln for ln in read if ln.seq is not None]
            self.report.segments.append(SegmentSummary(
                file.name, len(read), len(records), records[0].seq if records else None,
                records[-1].seq if records else None))
        self._walk(lines, bool(missing))
        return self.report

    def _walk(self, lines: list[_Line], numbering_gap: bool) -> None:
        seqs: Counter[int] = Counter(ln.seq for ln in lines if ln.seq is not None)
        before: _Line | None = None  # the last record of the chain
        chain_began = False
        unsigned = 0  # records since the last checkpoint
        legacy: list[_Line] = []  # records from before the chain, at the log's beginning
        i = 0
        while i < len(lines):
            ln = lines[i]
            if ln.doc is None:  # a run of lines that are not records
                j = i
                while j < len(lines) and lines[j].doc is None and lines[j].file == ln.file:
                    j += 1
                self._unreadable(lines[i:j], lines[j] if j < len(lines) else None,
                                 lines[j - 1] is lines[-1])
                i = j
                continue
            i += 1
            if ln.seq is None:
                if chain_began:
                    self.problem("unchained", ln, "a record without seq/prev/hash among "
                                 "chained ones: inserted, or written by something else")
                else:
                    legacy.append(ln)
                continue
            if not chain_began and legacy:
                self.problem("before_chain", legacy[0], f"{len(legacy)} line(s) written before "
                             "the log was chained: nothing vouches for them", note=True)
            chain_began = True
            self.report.records += 1
            doc = ln.doc
            assert doc is not None
            if record_hash(doc) != doc["hash"]:
                self.problem("changed", ln, "the record's hash does not match its content: "
                             "a field was changed after it was written")
            self._link(before, ln, seqs, numbering_gap)
            self.hashes[ln.seq] = (ln, str(doc["hash"]))
            if doc.get("event") == CHECKPOINT_EVENT:
                self._checkpoint(before, ln)
                unsigned = 0
            else:
                unsigned += 1
                # Once a run, where it went too far. The kiosk signs every CHECKPOINT_EVERY of
                # its own records; twice that leaves room for a technician's command writing
                # meanwhile (its records are not the kiosk's to count).
                if unsigned == UNSIGNED_LIMIT + 1:
                    self.problem("unsigned_run", ln, f"over {UNSIGNED_LIMIT} records in a "
                                 "row without a checkpoint, which the terminal never writes: "
                                 "checkpoints were taken out")
            before = ln
        if legacy and not chain_began:  # stripped of its chain, it would pass otherwise
            self.problem("unchained", legacy[0], f"none of the log's {len(legacy)} records is "
                         "chained: nothing in it can be checked")

    def _link(self, before: _Line | None, ln: _Line, seqs: Counter[int],
              numbering_gap: bool) -> None:
        doc, seq = ln.doc, ln.seq
        assert doc is not None and seq is not None
        if before is None:
            if seq != 1:
                self.problem("missing_segment", ln, f"the log begins at seq {seq}: the "
                             f"records 1 to {seq - 1} (an older segment) are missing")
            elif doc["prev"] != GENESIS:
                self.problem("chain_broken", ln, "the first record does not begin the chain")
            return
        assert before.doc is not None and before.seq is not None
        expected = before.seq + 1
        if seq == expected:
            if doc["prev"] != before.doc["hash"]:
                self.problem("chain_broken", ln, f"its prev is not the hash of seq {before.seq} "
                             f"({before.file}:{before.number}): that record was replaced or "
                             "re-hashed, or this one was")
        elif seq > expected and not any(seqs[s] for s in range(expected, seq)):
            span = f"seq {expected}" + (f" to {seq - 1}" if seq - 1 > expected else "")
            if ln.file != before.file:
                if not numbering_gap:
                    self.problem("missing_segment", ln, f"{span} missing between "
                                 f"{before.file} and {ln.file}: a segment was removed")
                else:
                    for p in self.report.problems:
                        if p.kind == "missing_segment" and p.line is None and p.seq is None:
                            p.seq = expected
                            p.detail += f" ({span}, after {before.file})"
                            break
            else:
                self.problem("removed", ln, f"{span} missing after {before.file}:"
                             f"{before.number} (deleted from the file)")
        else:
            self.problem("reordered", ln, f"out of order: it follows seq {before.seq} "
                         f"({before.file}:{before.number})")

    def _unreadable(self, run: list[_Line], after: _Line | None, at_end: bool) -> None:
        first = run[0]
        size = sum(ln.size for ln in run)
        noted = (after is not None and after.doc is not None
                 and after.doc.get("event") == TORN_EVENT
                 and after.doc.get("segment") == first.file
                 and after.doc.get("lines") == len(run))
        if noted:
            self.problem("torn_tail_noted", first, f"{len(run)} line(s), {size} bytes, cut "
                         "short and noted by the terminal when it next opened the log "
                         f"(seq {after.seq if after else '?'})", note=True)
        elif at_end:
            self.problem("torn_tail", first, f"the log ends with {len(run)} line(s) cut short "
                         f"({size} bytes): a crash or power cut mid-write, or a truncation; "
                         "the terminal notes it when it next opens the log")
        else:
            self.problem("unreadable", first, f"{len(run)} line(s) that are not records, "
                         "in the middle of the log")

    def _checkpoint(self, before: _Line | None, ln: _Line) -> None:
        from kiosk.records.audit_keys import checkpoint_signed_by

        self.report.checkpoints += 1
        doc = ln.doc
        assert doc is not None
        signed_seq, signed_hash = doc.get("signed_seq"), doc.get("signed_hash")
        if before is None or before.doc is None or signed_seq != before.seq \
                or signed_hash != doc["prev"]:
            self.problem("checkpoint_mismatch", ln, f"it signs seq {signed_seq}, not the "
                         "record before it")
        if self.key is None:
            if not any(p.kind == "no_key" for p in self.report.problems):
                self.problem("no_key", ln, "no key to check the checkpoints' signatures with "
                             "(the terminal's audit-signing.key, or --public-key)")
            return
        if doc.get("key_fingerprint") != self.fingerprint:
            self.problem("unknown_key", ln, "signed by another key (fingerprint "
                         f"{str(doc.get('key_fingerprint'))[:16]}...) than the one checked "
                         f"against ({(self.fingerprint or '')[:16]}...)")
        elif not (isinstance(signed_seq, int) and isinstance(signed_hash, str)
                  and checkpoint_signed_by(self.key, signed_seq, signed_hash,
                                           str(doc.get("signature")))):
            self.problem("bad_signature", ln, "the signature does not verify against the "
                         "terminal's key: forged or altered")


    def compare(self, held: list[tuple[int, str]]) -> None:
        """Each (signed seq, signed hash) the back office holds, against the log."""
        last = max(self.hashes, default=0)
        for seq, signed in sorted(held):
            found = self.hashes.get(seq)
            if found is None:
                self.problem("cut_off" if seq > last else "removed", None,
                             f"the back office holds a checkpoint of seq {seq}; the log "
                             f"{'ends at seq ' + str(last) if seq > last else 'has no such record'}"
                             ": records were removed since it was signed", file="log")
            elif found[1] != signed:
                self.problem("not_as_signed", found[0], "this record is not the one the back "
                             "office's checkpoint signed: the log was rewritten since")


def verify_log(path: Path, public_key: Ed25519PublicKey | None = None,
               held: list[tuple[int, str]] | None = None) -> Report:
    """Check the log whose current file is `path` (its rotated segments beside it); `held`:
    the (signed seq, signed hash) of the checkpoints the back office holds."""
    checker = _Checker(public_key)
    report = checker.check(path)
    if held is not None:
        checker.compare(held)
    return report
