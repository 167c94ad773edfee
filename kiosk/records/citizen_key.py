"""The citizen-hash key: a secret the terminal receives at enrolment (the same one its back
office holds), kept in a file only its owner can read (0600). Wherever the terminal or the
back office matches a citizen, the ID number is a keyed hash under it (HMAC-SHA256), so a
stolen file of hashes cannot be searched for ID numbers without the key too (a plain hash of
an 18-character ID number falls to a search of a few million candidates in seconds).

The contract with the back office (backoffice/secrets.py computes the same):
`hex(HMAC-SHA256(key, id_number.strip().upper() as UTF-8))`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import stat
from pathlib import Path

from kiosk.config.errors import ConfigError

KEY_BYTES = 32
FILE_NAME = "citizen-hash.key"


def write_private(path: Path, data: bytes, *, replace: bool = True) -> None:
    """`data` at `path`, readable by its owner alone from the first byte, and replacing what
    was there only once all of it is on disk (a crash leaves the old file or the new one).
    `replace=False`: never replaces a file that is there (another process's stands)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            tmp.replace(path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class CitizenKey:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < KEY_BYTES:
            raise ValueError(f"a citizen-hash key has at least {KEY_BYTES} bytes")
        self._secret = secret

    @classmethod
    def random(cls) -> CitizenKey:
        """A key of this process alone (an in-memory locker, a test)."""
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_file(cls, path: Path) -> CitizenKey:
        """The enrolled key (hex text); a missing, unreadable, short or world-readable file
        is a one-line ConfigError naming it."""
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError as e:
            raise ConfigError(f"{path}: no citizen-hash key: the terminal is not enrolled"
                              " (its back office issues the key)") from e
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: the citizen-hash key cannot be read: {e}") from e
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path}: the citizen-hash key is readable by others "
                              f"(mode {stat.S_IMODE(mode):04o}); chmod 600 it")
        try:
            return cls(bytes.fromhex(text))
        except ValueError as e:
            raise ConfigError(f"{path}: not a citizen-hash key ({e})") from e

    def write(self, path: Path) -> None:
        """Keep this key at `path`, 0600 from the first byte, whole or not at all."""
        write_private(path, (self._secret.hex() + "\n").encode("ascii"))

    def citizen_hash(self, id_number: str) -> str:
        """The key a citizen is matched by, here and at the back office."""
        normal = id_number.strip().upper().encode("utf-8")
        return hmac.new(self._secret, normal, hashlib.sha256).hexdigest()

    def pepper(self, purpose: str) -> bytes:
        """A key of its own for one use on this terminal (e.g. the locker's salted hashes),
        derived so that no stored value is under the matching key itself."""
        return hmac.new(self._secret, b"kiosk pepper " + purpose.encode(), hashlib.sha256).digest()
