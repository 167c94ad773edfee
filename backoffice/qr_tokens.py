"""Identity QR tokens, issued to a citizen's phone and verified offline by terminals.

    KQ1.<base64url(payload JSON)>.<base64url(Ed25519 signature of "KQ1.<payload part>")>

The payload: typ "identity", jti (used once), iat and exp (epoch seconds, a few minutes
apart), id (the resident ID number), name, sex, birth (YYYYMMDD). The signing key is made at
first start and kept in the back office's data directory (0600); terminals get the public key.
(The terminal's verifier is devices/id_reader/qr/token.py: the two systems share no code.)
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backoffice.secrets import private_file

PREFIX = "KQ1."
KEY_FILE = "qr-signing-key.pem"
LIFETIME_S = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class QrIssuer:
    def __init__(self, data_dir: Path) -> None:
        path = data_dir / KEY_FILE
        made = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        # Made at first start; several processes of one back office share the one kept.
        loaded = serialization.load_pem_private_key(private_file(path, made), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key")
        self._key = loaded

    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def issue(self, claims: dict[str, str], lifetime_s: float = LIFETIME_S,
              now: float | None = None) -> tuple[str, int]:
        """(token, expires_at) for a citizen's identity claims."""
        issued = time.time() if now is None else now
        payload = {"typ": "identity", "jti": uuid.uuid4().hex, "iat": int(issued),
                   "exp": int(issued + lifetime_s), **claims}
        body = PREFIX + _b64(json.dumps(payload, ensure_ascii=False,
                                        separators=(",", ":")).encode())
        return body + "." + _b64(self._key.sign(body.encode("ascii"))), int(issued + lifetime_s)
