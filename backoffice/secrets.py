"""The reference back office's secrets, made at its first start and kept in its data
directory readable by it alone (0600), never printed or logged:

- `terminal.token`: the bearer token terminals present (unless `--token-file` names one);
  nothing but the health check, certificate verification and the QR public key is answered
  without it.
- `operator.token`: the operator's bearer token: issuing and revoking enrolment tokens,
  revoking terminals, offering configuration, reading heartbeats.
- `citizen-hash.key`: the key of the citizen hash, given to terminals at enrolment. A citizen
  is matched by `hex(HMAC-SHA256(key, id_number.strip().upper()))` (the terminal's side is
  kiosk/records/citizen_key.py: the two systems share no code).
- `store.key`: the Fernet key under which stored payloads (names, ID numbers) are encrypted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

TOKEN_FILE = "terminal.token"
CITIZEN_KEY_FILE = "citizen-hash.key"
OPERATOR_TOKEN_FILE = "operator.token"
STORE_KEY_FILE = "store.key"


def private_file(path: Path, make: bytes) -> bytes:
    """The file's bytes; written first (0600 from the first byte) when it is not there. Two
    processes starting at once agree: each writes a file of its own in full and links it in
    place (which only one can), and the one that loses reads the winner's, never half of it.
    """
    if path.exists():
        path.chmod(0o600)
        return path.read_bytes()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(make)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes()
        return make
    finally:
        tmp.unlink(missing_ok=True)


class BackOfficeSecrets:
    def __init__(self, data_dir: Path, token: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.citizen_key_file = self.data_dir / CITIZEN_KEY_FILE
        self.token_file: Path | None = None  # a token given by its operator is not copied
        if token is None:
            self.token_file = self.data_dir / TOKEN_FILE
            token = private_file(self.token_file, (secrets.token_urlsafe(32) + "\n").encode()
                                 ).decode("ascii").strip()
        self.token = token
        self.operator_token_file = self.data_dir / OPERATOR_TOKEN_FILE
        self.operator_token = private_file(
            self.operator_token_file, (secrets.token_urlsafe(32) + "\n").encode()
        ).decode("ascii").strip()
        self._citizen_key = bytes.fromhex(private_file(
            self.citizen_key_file, (os.urandom(32).hex() + "\n").encode()).decode().strip())
        self.fernet = Fernet(private_file(self.data_dir / STORE_KEY_FILE,
                                          Fernet.generate_key()).strip())

    @property
    def citizen_key_hex(self) -> str:
        """The citizen-hash key as terminals are given it at enrolment."""
        return self._citizen_key.hex()

    def citizen_hash(self, id_number: str) -> str:
        normal = id_number.strip().upper().encode("utf-8")
        return hmac.new(self._citizen_key, normal, hashlib.sha256).hexdigest()
