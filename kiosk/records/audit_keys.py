"""The terminal's audit-signing key: an Ed25519 key made on first use and kept in
`<data_dir>/audit-signing.key` (PEM, PKCS#8, 0600). The audit log signs checkpoints of its hash
chain with it; the back office is given the public key at enrolment and checks the checkpoints
it receives against it.

The contract with the back office (backoffice/audit_checkpoints.py computes the same; the two
systems share no code):

- the signed message is the ASCII bytes `kiosk-audit-checkpoint/1\\n<seq>\\n<hash>`: `seq`
  in decimal and `hash` (64 lower-case hex digits) of the last record the checkpoint covers;
- the signature is standard base64 of the 64-byte Ed25519 signature;
- the key's fingerprint is hex SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from kiosk.config.errors import ConfigError
from kiosk.records.citizen_key import write_private

KEY_FILE = "audit-signing.key"
MESSAGE_PREFIX = b"kiosk-audit-checkpoint/1\n"


def load_or_create_signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The terminal's audit-signing key, made the first time it is asked for. A key file
    others can read, or one that is not an Ed25519 key, is a one-line ConfigError naming it."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        try:
            # Never replaces a key: two keys for one terminal would fail one's checkpoints.
            write_private(path, key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()),
                          replace=False)
        except OSError as e:
            raise ConfigError(f"{path}: the audit-signing key cannot be written: "
                              f"{e.strerror}") from e
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: the audit-signing key cannot be read: {e.strerror}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: the audit-signing key is readable by others "
                          f"(mode {stat.S_IMODE(mode):04o}); chmod 600 it")
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{path}: not a PEM private key ({e})") from e
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 key")
    return loaded


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public half, as PEM text (SubjectPublicKeyInfo): what enrolment sends."""
    return _public(key).public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM (or the public half of a private key's PEM); ValueError if it is
    neither, or not Ed25519."""
    try:
        key: object = serialization.load_pem_public_key(pem)
    except ValueError:
        key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return key


def key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    raw = _public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def checkpoint_message(seq: int, chain_hash: str) -> bytes:
    return MESSAGE_PREFIX + f"{seq}\n{chain_hash}".encode("ascii")


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, chain_hash: str) -> str:
    return base64.b64encode(key.sign(checkpoint_message(seq, chain_hash))).decode("ascii")


def checkpoint_signed_by(key: Ed25519PublicKey, seq: int, chain_hash: str,
                         signature: str) -> bool:
    """Whether `signature` is `key`'s over the checkpoint (seq, chain_hash)."""
    try:
        key.verify(base64.b64decode(signature, validate=True),
                   checkpoint_message(seq, chain_hash))
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True
