"""At-rest encryption of outbox payloads (personal data must not sit in SQLite in clear)."""

from __future__ import annotations

import binascii
import contextlib
import os
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken


class PayloadCipher(Protocol):
    def encrypt(self, plaintext: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


class PayloadDecryptError(ValueError):
    """A stored payload cannot be decrypted: wrong key file, or the row is corrupt."""


class FernetCipher:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, binascii.Error) as exc:
            raise ValueError(f"not a valid Fernet key: {exc}") from exc

    @classmethod
    def from_key_file(cls, path: Path) -> FernetCipher:
        path = Path(path)
        # Exists: the normal case after the first start, or another process won the race.
        with contextlib.suppress(FileExistsError):
            _create_key_file(path)
        try:
            raw = path.read_bytes().strip()
        except OSError as exc:
            raise ValueError(f"cannot read outbox key file {path}: {exc}") from exc
        try:
            return cls(raw)
        except ValueError as exc:
            raise ValueError(
                f"outbox key file {path} is corrupt (expected one urlsafe-base64 Fernet key)"
            ) from exc

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise PayloadDecryptError(
                "payload cannot be decrypted with this key (wrong key file, or corrupt row)"
            ) from exc


def _create_key_file(path: Path) -> None:
    # O_EXCL so two starting processes cannot both write a key and one lose its data; 0600 at
    # creation time so the key is never world-readable, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    # Without the directory fsync a power cut can lose the new name while rows encrypted with
    # the key are already durable: the outbox would then be unreadable.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
