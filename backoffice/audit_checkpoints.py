"""Audit checkpoints: what a terminal's tamper-evident audit log signed, kept here where no one
at the terminal can rewrite it.

A terminal chains its audit records by hash and, every few hundred records, every hour and when
it stops, signs the chain's end (seq and hash of the last record) with its own Ed25519 key. The
checkpoint comes through its outbox as an `audit.checkpoint` event and is written with its
envelope in one transaction. If the back office knows the terminal's public key (given at
enrolment: `register_terminal_key`), the signature is checked on receipt and the checkpoint
kept as verified or not; otherwise it is kept unverified, and checked once the key is
registered. `GET /v1/audit-checkpoints?terminal=ID` lists them: a log at the terminal that no
longer reaches a seq the back office holds, or reaches it with another hash, was cut or
rewritten.

The contract (the terminal's side is kiosk/records/audit_keys.py; the two systems share no
code): the signed message is the ASCII bytes `kiosk-audit-checkpoint/1\\n<seq>\\n<hash>`; the
signature is standard base64 of the 64-byte Ed25519 signature; the key's fingerprint is hex
SHA-256 of the raw 32-byte public key. A checkpoint holds no personal data, and a payload with
any field beyond the contract's six is rejected, so nothing can ride along.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backoffice.db import Database, Tx, insert_returning

CHECKPOINT_EVENT = "audit.checkpoint"
MESSAGE_PREFIX = b"kiosk-audit-checkpoint/1\n"
FIELDS = ("terminal_id", "seq", "hash", "at", "signature", "key_fingerprint")
# verdict -> verified: the key registered for the terminal says yes or no; no key: unknown.
VERDICTS = {"verified": True, "bad_signature": False, "other_key": False,
            "no_key_registered": None}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TERMINAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS terminal_keys (
    terminal_id TEXT PRIMARY KEY, public_key_pem TEXT NOT NULL, fingerprint TEXT NOT NULL,
    registered_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    idempotency_key TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, seq BIGINT NOT NULL,
    hash TEXT NOT NULL, at REAL NOT NULL, signature TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL, verified INTEGER, verdict TEXT NOT NULL,
    received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS idx_audit_checkpoints_terminal ON audit_checkpoints (terminal_id, seq);
"""
_COLUMNS = ("terminal_id", "seq", "hash", "at", "signature", "key_fingerprint", "verified",
            "verdict", "received_at")


class BadCheckpoint(ValueError):
    """An audit.checkpoint payload off the contract; the message names the field."""


@dataclass(frozen=True)
class Checkpoint:
    terminal_id: str
    seq: int
    hash: str
    at: float
    signature: str
    key_fingerprint: str


def checkpoint_fields(doc: dict[str, Any]) -> Checkpoint:
    """The checkpoint an audit.checkpoint payload carries, or BadCheckpoint naming the field."""
    extra = sorted(set(doc) - set(FIELDS))
    if extra:
        raise BadCheckpoint(f"field {extra[0]!r} is not part of an audit.checkpoint")
    terminal, seq, chain_hash = doc.get("terminal_id"), doc.get("seq"), doc.get("hash")
    at, signature, fingerprint = doc.get("at"), doc.get("signature"), doc.get("key_fingerprint")
    if not isinstance(terminal, str) or not _TERMINAL.fullmatch(terminal):
        raise BadCheckpoint("field 'terminal_id' must be a terminal's id")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq < 2**63:
        raise BadCheckpoint("field 'seq' must be a whole number from 1")
    for name, value in (("hash", chain_hash), ("key_fingerprint", fingerprint)):
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise BadCheckpoint(f"field {name!r} must be 64 lower-case hex digits (SHA-256)")
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise BadCheckpoint("field 'at' must be a finite number of seconds")
    if not isinstance(signature, str) or not 0 < len(signature) <= 128:
        raise BadCheckpoint("field 'signature' must be a base64 Ed25519 signature")
    assert isinstance(chain_hash, str) and isinstance(fingerprint, str)
    return Checkpoint(terminal, seq, chain_hash, float(at), signature, fingerprint)


def _public_key(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as e:
        raise ValueError(f"not a PEM public key ({e})") from e
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def fingerprint_of(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def verdict(key: Ed25519PublicKey | None, c: Checkpoint) -> str:
    """What the terminal's registered key says of a checkpoint (VERDICTS)."""
    if key is None:
        return "no_key_registered"
    if fingerprint_of(key) != c.key_fingerprint:
        return "other_key"
    try:
        key.verify(base64.b64decode(c.signature, validate=True),
                   MESSAGE_PREFIX + f"{c.seq}\n{c.hash}".encode("ascii"))
    except (InvalidSignature, binascii.Error, ValueError):
        return "bad_signature"
    return "verified"


def _keys_of(tx: Tx, terminals: set[str]) -> dict[str, Ed25519PublicKey]:
    if not terminals:
        return {}
    marks = ", ".join("?" * len(terminals))
    rows = tx.execute(f"SELECT terminal_id, public_key_pem FROM terminal_keys"
                      f" WHERE terminal_id IN ({marks})", tuple(sorted(terminals))).fetchall()
    return {terminal: _public_key(pem) for terminal, pem in rows}


def register_terminal_key(db: Database, terminal_id: str, pem: str,
                          now: float | None = None) -> str:
    """The public key `terminal_id` signs its audit checkpoints with (enrolment gives it; a
    new one replaces the old). Checkpoints kept unverified for want of a key are checked now.
    Returns its fingerprint; ValueError if `pem` is not an Ed25519 public key."""
    key = _public_key(pem)
    fingerprint = fingerprint_of(key)
    at = time.time() if now is None else now
    db.schema(_SCHEMA)  # enrolment may come before anything else has opened the table

    def register(tx: Tx) -> None:
        tx.execute("INSERT INTO terminal_keys(terminal_id, public_key_pem, fingerprint,"
                   " registered_at) VALUES (?, ?, ?, ?) ON CONFLICT (terminal_id) DO UPDATE"
                   " SET public_key_pem = excluded.public_key_pem,"
                   " fingerprint = excluded.fingerprint, registered_at = excluded.registered_at",
                   (terminal_id, pem, fingerprint, at))
        waiting = tx.execute(
            "SELECT idempotency_key, seq, hash, at, signature, key_fingerprint"
            " FROM audit_checkpoints WHERE terminal_id = ? AND verified IS NULL",
            (terminal_id,)).fetchall()
        for key_, seq, chain_hash, when, signature, fp in waiting:
            said = verdict(key, Checkpoint(terminal_id, seq, chain_hash, when, signature, fp))
            tx.execute("UPDATE audit_checkpoints SET verified = ?, verdict = ?"
                       " WHERE idempotency_key = ?", (_flag(said), said, key_))

    db.run(register)
    return fingerprint


def _flag(said: str) -> int | None:
    verified = VERDICTS[said]
    return None if verified is None else int(verified)


def insert_checkpoints(tx: Tx, checkpoints: Sequence[tuple[str, Checkpoint]],
                       now: float) -> None:
    """Keep (idempotency_key, checkpoint) pairs, each checked against its terminal's key,
    inside the store's transaction that writes their envelopes."""
    if not checkpoints:
        return
    keys = _keys_of(tx, {c.terminal_id for _, c in checkpoints})
    rows = []
    for key_, c in checkpoints:
        said = verdict(keys.get(c.terminal_id), c)
        rows.append((key_, c.terminal_id, c.seq, c.hash, c.at, c.signature, c.key_fingerprint,
                     _flag(said), said, now))
    insert_returning(
        tx, "INSERT INTO audit_checkpoints(idempotency_key, terminal_id, seq, hash, at,"
        " signature, key_fingerprint, verified, verdict, received_at)", rows,
        "ON CONFLICT DO NOTHING RETURNING idempotency_key")


class AuditCheckpoints:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.schema(_SCHEMA)

    def checkpoints(self, terminal_id: str) -> list[dict[str, Any]]:
        """A terminal's checkpoints in the order of its log (seq), with what was found of
        each signature: verified true, false, or null while no key is registered."""
        rows = self._db.query(f"SELECT {', '.join(_COLUMNS)} FROM audit_checkpoints"
                              " WHERE terminal_id = ? ORDER BY seq, received_at",
                              (terminal_id,))
        found = []
        for row in rows:
            record = dict(zip(_COLUMNS, row, strict=True))
            record["verified"] = None if record["verified"] is None else bool(record["verified"])
            found.append(record)
        return found

    def register_key(self, terminal_id: str, pem: str) -> str:
        """register_terminal_key on this store's database."""
        return register_terminal_key(self._db, terminal_id, pem)

    def key_of(self, terminal_id: str) -> str | None:
        """The fingerprint of the key registered for the terminal."""
        rows = self._db.query("SELECT fingerprint FROM terminal_keys WHERE terminal_id = ?",
                              (terminal_id,))
        return str(rows[0][0]) if rows else None
