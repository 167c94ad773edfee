"""Certificates the reference back office issues on the spot: household registration proofs
(户籍证明) and entry-exit record proofs (出入境记录证明), for residents on its register.

A certificate has a serial number (e.g. HP2026000001) and a verification code that anyone
holding the paper can check at `GET /v1/verify/{serial}?code=...`. The code is an HMAC of the
serial under a key kept 0600 in the back office's data directory, so it is never stored and
can be given again. Issuing is idempotent by tracking number: a certificate that failed to
print is printed again with the same serial, never issued twice. Someone not on the register
is "not eligible", with the reason.

The register (the stand-in for the household register and the entry-exit records) holds the
citizen hash and the district only; certificates hold the holder's name masked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backoffice.db import Database, Tx
from backoffice.secrets import private_file
from backoffice.store import parse_json

KEY_FILE = "certificate-key.bin"
# The event a terminal queues once a certificate came out of its printer; until then the
# certificate is given again to the same citizen for the same service, never a second one.
PRINTED_EVENT = "certificate.printed"
DB_FILE = "certificates.sqlite3"


@dataclass(frozen=True)
class CertificateKind:
    prefix: str
    title_zh: str
    title_en: str
    issuer: str


KINDS = {
    "household_proof": CertificateKind("HP", "户籍证明", "Household registration proof",
                                       "上海市公安局浦东分局"),
    "entry_exit_proof": CertificateKind("EE", "出入境记录证明", "Entry-exit record proof",
                                        "上海市公安局出入境管理局"),
}


class NotEligible(Exception):
    """The citizen cannot have this certificate: a reason code, and the words for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Certificate:
    serial: str
    verification_code: str
    service_id: str
    title_zh: str
    title_en: str
    issuer: str
    holder: str  # masked
    district: str
    issued_at: float
    tracking_no: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mask_name(name: str) -> str:
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS residents (citizen_hash TEXT PRIMARY KEY, district TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY, tracking_no TEXT NOT NULL UNIQUE, service_id TEXT NOT NULL,
    citizen_hash TEXT NOT NULL, holder TEXT NOT NULL, district TEXT NOT NULL,
    issued_at REAL NOT NULL, printed_at REAL
);
"""


class CertificateOffice:
    def __init__(self, data_dir: Path, db: Database, citizen_hash: Callable[[str], str], *,
                 clock: Callable[[], float] = time.time) -> None:
        """The code key is a file of data_dir (0600): every process of one back office reads
        the same one."""
        self._clock = clock
        self._citizen_hash = citizen_hash
        self._key = private_file(data_dir / KEY_FILE, os.urandom(32))
        self._db = db
        db.schema(_SCHEMA)
        if "printed_at" not in db.columns("certificates"):  # from before terminals said so
            db.schema("ALTER TABLE certificates ADD COLUMN printed_at REAL")

    def register(self, id_number: str, district: str) -> None:
        """Put a resident on the register (the demo and tests do)."""
        self._db.run(lambda tx: tx.execute(
            "INSERT INTO residents VALUES (?, ?) ON CONFLICT (citizen_hash) DO UPDATE"
            " SET district = excluded.district", (self._citizen_hash(id_number), district)))

    def code(self, serial: str) -> str:
        digest = hmac.new(self._key, serial.encode("ascii"), hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:8]

    def issue(self, service_id: str, tracking_no: str, id_number: str, name: str) -> Certificate:
        kind = KINDS.get(service_id)
        if kind is None:
            raise ValueError(f"service {service_id!r} issues no certificate here "
                             f"(known: {', '.join(KINDS)})")
        who = self._citizen_hash(id_number)

        def find_or_issue(tx: Tx) -> tuple[Any, ...]:
            # Two processes issuing at once: the serial and the tracking number are unique
            # keys, so the one that loses is tried again and finds the winner's certificate.
            row = tx.execute(
                "SELECT serial, service_id, citizen_hash, holder, district, issued_at,"
                " tracking_no FROM certificates WHERE tracking_no = ?",
                (tracking_no,)).fetchone()
            if row is None:
                row = self._unprinted(tx, service_id, who) \
                    or self._new(tx, kind, service_id, tracking_no, who, name)
            return tuple(row)

        row = self._db.run(find_or_issue)
        serial, issued_for, holder_hash, holder, district, issued_at, first_tracking_no = row
        if issued_for != service_id or holder_hash != who:
            raise ValueError(f"tracking_no {tracking_no!r} was issued another certificate")
        return Certificate(serial, self.code(serial), service_id, kind.title_zh, kind.title_en,
                           kind.issuer, holder, district, issued_at, first_tracking_no)

    def _unprinted(self, tx: Tx, service_id: str, who: str) -> tuple[Any, ...] | None:
        """The citizen's certificate of this kind that no terminal has said it printed: asked
        for again (a new visit after a failed print), it is given again, never a second one."""
        row = tx.execute(
            "SELECT serial, service_id, citizen_hash, holder, district, issued_at, tracking_no"
            " FROM certificates WHERE service_id = ? AND citizen_hash = ? AND printed_at IS NULL"
            " ORDER BY issued_at DESC LIMIT 1", (service_id, who)).fetchone()
        return None if row is None else tuple(row)

    def mark_printed(self, serial: str, at: float | None = None) -> bool:
        """A terminal said the certificate came out of its printer (an outbox event)."""
        when = self._clock() if at is None else at
        return bool(self._db.run(lambda tx: tx.execute(
            "UPDATE certificates SET printed_at = ? WHERE serial = ? AND printed_at IS NULL",
            (when, serial)).rowcount == 1))

    def _new(self, tx: Tx, kind: CertificateKind, service_id: str, tracking_no: str,
             who: str, name: str) -> tuple[Any, ...]:
        resident = tx.execute("SELECT district FROM residents WHERE citizen_hash = ?",
                              (who,)).fetchone()
        if resident is None:
            raise NotEligible("not_on_register",
                              "no household registration on record for this ID number")
        now = self._clock()
        year = time.strftime("%Y", time.localtime(now))
        count = tx.execute("SELECT COUNT(*) FROM certificates WHERE serial LIKE ?",
                           (f"{kind.prefix}{year}%",)).fetchone()[0]
        row = (f"{kind.prefix}{year}{count + 1:06d}", service_id, who, mask_name(name),
               resident[0], now)
        tx.execute("INSERT INTO certificates (serial, service_id, citizen_hash, holder,"
                   " district, issued_at, tracking_no) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (*row, tracking_no))
        return (*row, tracking_no)

    def verify(self, serial: str, code: str) -> dict[str, Any]:
        """What the paper says, when the serial exists and the code is its own."""
        rows = self._db.query("SELECT service_id, holder, district, issued_at FROM certificates"
                              " WHERE serial = ?", (serial,))
        row = rows[0] if rows else None
        if row is None or not hmac.compare_digest(self.code(serial), code.strip().upper()):
            return {"valid": False}
        kind = KINDS[row[0]]
        return {"valid": True, "serial": serial, "title_zh": kind.title_zh,
                "title_en": kind.title_en, "issuer": kind.issuer, "holder": row[1],
                "district": row[2], "issued_at": row[3]}

    def count(self) -> int:
        return int(self._db.query("SELECT COUNT(*) FROM certificates")[0][0])


def printed_serial(payload: bytes) -> str | None:
    """The serial a `certificate.printed` event names, if it names one."""
    try:
        doc = parse_json(payload)
    except ValueError:
        return None
    serial = doc.get("serial") if isinstance(doc, dict) else None
    return serial if isinstance(serial, str) and serial else None
