"""Where an enrolled terminal keeps what its back office gave it: the credential (bearer
token), the citizen-hash key and the QR-token public key, each where the profile's
`[backoffice]` names it, else in the data directory. Secrets are written 0600, replacing the
old file only once the new one is whole (re-enrolment rotates them), and never printed or
logged. `enrolment.json` says when and with whom the terminal enrolled (no secret in it).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config.profile import Profile
from kiosk.records.citizen_key import FILE_NAME as CITIZEN_KEY_FILE
from kiosk.records.citizen_key import write_private
from kiosk.records.ownership import hand_to_owner

TOKEN_FILE = "terminal.token"
QR_KEY_FILE = "qr-public.pem"
RECORD_FILE = "enrolment.json"


@dataclass(frozen=True)
class EnrolmentFiles:
    token: Path
    citizen_key: Path
    qr_key: Path
    record: Path

    @classmethod
    def of(cls, profile: Profile, data_dir: Path) -> EnrolmentFiles:
        office = profile.backoffice
        return cls(Path(office.token_file or data_dir / TOKEN_FILE),
                   Path(office.citizen_key_file or data_dir / CITIZEN_KEY_FILE),
                   Path(office.qr_public_key_file or data_dir / QR_KEY_FILE),
                   data_dir / RECORD_FILE)

    def secrets(self) -> tuple[Path, ...]:
        """The files nobody but the terminal may read."""
        return (self.token, self.citizen_key)

    def unwritable(self) -> str | None:
        """Why one of the files could not be written now, or None."""
        for path in (self.token, self.citizen_key, self.qr_key, self.record):
            probe = path.with_name(f".{path.name}.{os.getpid()}.probe")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                probe.write_bytes(b"probe")
                probe.unlink()
            except OSError as e:
                return f"{path} cannot be written: {e.strerror or e}"
        return None

    def save(self, *, credential: str, citizen_key_hex: str, qr_public_key: str,
             terminal_id: str, backoffice_url: str) -> dict[str, Any]:
        """Keep what enrolment gave; the record written (last: its presence says the rest is
        in place)."""
        for path in (self.token, self.citizen_key, self.qr_key, self.record):
            path.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.token, (credential + "\n").encode("ascii"))
        write_private(self.citizen_key, (citizen_key_hex + "\n").encode("ascii"))
        write_private(self.qr_key, qr_public_key.encode("ascii"))
        self.qr_key.chmod(0o644)  # a public key
        record = {
            "terminal_id": terminal_id, "backoffice_url": backoffice_url,
            "token_file": str(self.token),  # where the credential is (never the credential)
            "enrolled_at": time.time(),
            # Which credential, without it: a technician compares it with the back office's.
            "credential_fingerprint": hashlib.sha256(credential.encode()).hexdigest()[:16],
        }
        write_private(self.record, json.dumps(record, indent=2).encode("utf-8") + b"\n")
        # Enrolment runs as root; the kiosk runs as its own user, who must read these.
        hand_to_owner(self.record.parent, also=(self.token, self.citizen_key, self.qr_key))
        return record

    def read_record(self) -> dict[str, Any] | None:
        """What the last enrolment recorded, or None (never enrolled, or the file is broken)."""
        try:
            doc = json.loads(self.record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def existing_token(self) -> str | None:
        """The token file's path when it is there (a terminal not enrolled has none)."""
        return str(self.token) if self.token.is_file() else None
