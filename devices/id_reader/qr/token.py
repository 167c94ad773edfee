"""Verifying an identity QR token offline (the format: backoffice/qr_tokens.py's docstring).

A token is refused, with its reason, when it is malformed, its signature does not verify
with the back office's public key (forged or altered), it has expired or is not valid yet, or
it was already used here (replayed: a screenshot shown twice). Used tokens are remembered
until they expire (tokens live minutes): in memory by default, and by the terminal in a
durable store of its data directory (kiosk/records/used_tokens.py), so a restart does not
make a used token good again.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from devices.id_reader.protocol import DocumentKind, Identity

PREFIX = "KQ1."
MAX_TOKEN = 2048  # a QR code holds less; anything longer is not ours
CLOCK_SKEW_S = 60
SEX = {"1": "男", "2": "女", "男": "男", "女": "女", "M": "男", "F": "女"}


class TokenRefusal(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REPLAYED = "replayed"


@dataclass(frozen=True)
class TokenCheck:
    identity: Identity | None = None
    refusal: TokenRefusal | None = None
    detail: str = ""


class UsedTokens(Protocol):
    def first_use(self, jti: str, expires_at: float, now: float) -> bool:
        """Remember this use; False when the token was used before. What expired by `now`
        may be forgotten."""
        ...


class MemoryUsedTokens:
    def __init__(self) -> None:
        self._used: dict[str, float] = {}  # jti -> exp
        self._lock = threading.Lock()

    def first_use(self, jti: str, expires_at: float, now: float) -> bool:
        with self._lock:
            self._used = {j: exp for j, exp in self._used.items() if exp >= now}
            if jti in self._used:
                return False
            self._used[jti] = expires_at
            return True


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class TokenVerifier:
    def __init__(self, public_key_pem: bytes, *, clock: Callable[[], float] = time.time,
                 used: UsedTokens | None = None) -> None:
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the QR public key is not an Ed25519 key")
        self._key = key
        self._clock = clock
        self._used = used or MemoryUsedTokens()

    def verify(self, text: str) -> TokenCheck:
        if len(text) > MAX_TOKEN or not text.startswith(PREFIX) or text.count(".") != 2:
            return TokenCheck(refusal=TokenRefusal.MALFORMED, detail="not a KQ1 token")
        body, _, signature = text.rpartition(".")
        try:
            sig = _unb64(signature)
            payload = json.loads(_unb64(body[len(PREFIX):]))
        except (binascii.Error, ValueError) as e:
            return TokenCheck(refusal=TokenRefusal.MALFORMED, detail=f"does not decode: {e}")
        try:
            self._key.verify(sig, body.encode("ascii"))
        except (InvalidSignature, ValueError):
            return TokenCheck(refusal=TokenRefusal.FORGED, detail="signature does not verify")
        fields = ("jti", "id", "name")
        if (not isinstance(payload, dict) or payload.get("typ") != "identity"
                or not all(isinstance(payload.get(f), str) and payload[f] for f in fields)
                or not isinstance(payload.get("iat"), int)
                or not isinstance(payload.get("exp"), int)):
            return TokenCheck(refusal=TokenRefusal.MALFORMED, detail="payload lacks a field")
        now = self._clock()
        if payload["exp"] < now:
            return TokenCheck(refusal=TokenRefusal.EXPIRED)
        if payload["iat"] > now + CLOCK_SKEW_S:
            return TokenCheck(refusal=TokenRefusal.NOT_YET_VALID)
        if not self._used.first_use(payload["jti"], payload["exp"], now):
            return TokenCheck(refusal=TokenRefusal.REPLAYED)
        birth = payload.get("birth", "")
        return TokenCheck(identity=Identity(
            DocumentKind.QR_CODE, payload["id"], payload["name"],
            SEX.get(str(payload.get("sex", "")), ""),
            birth if isinstance(birth, str) else "", nationality="CHN"))
