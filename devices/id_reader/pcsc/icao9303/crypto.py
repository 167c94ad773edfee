"""BAC's cryptography (ICAO 9303 part 11): key derivation, 3DES-CBC, the retail MAC
(ISO/IEC 9797-1 algorithm 3), and padding method 2."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

ENC, MAC = 1, 2
ZERO_IV = bytes(8)


def _parity(key: bytes) -> bytes:
    """DES keys carry odd parity in each byte's lowest bit."""
    return bytes((b & 0xFE) | (bin(b & 0xFE).count("1") + 1) % 2 for b in key)


def derive(seed: bytes, counter: int) -> bytes:
    """A 16-byte 3DES key (Ka || Kb) from a key seed and the counter (1: ENC, 2: MAC)."""
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()
    return _parity(digest[:16])


def k_seed(mrz_seed_input: str) -> bytes:
    return hashlib.sha1(mrz_seed_input.encode("ascii")).digest()[:16]


def pad(data: bytes) -> bytes:
    data += b"\x80"
    return data + bytes(-len(data) % 8)


def unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise ValueError("padding method 2 marker missing")
    return end[:-1]


def _3des(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(TripleDES(key + key[:8]), modes.CBC(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def encrypt(key: bytes, data: bytes) -> bytes:
    return _3des(key, ZERO_IV, data, True)


def decrypt(key: bytes, data: bytes) -> bytes:
    return _3des(key, ZERO_IV, data, False)


def _des(key8: bytes, data: bytes, encrypt_: bool) -> bytes:
    cipher = Cipher(TripleDES(key8 * 3), modes.ECB())
    op = cipher.encryptor() if encrypt_ else cipher.decryptor()
    return op.update(data) + op.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 over data already padded: single-DES CBC with Ka,
    then the last block decrypted with Kb and encrypted with Ka again."""
    ka, kb = key[:8], key[8:16]
    h = bytes(8)
    for i in range(0, len(data), 8):
        h = _des(ka, bytes(a ^ b for a, b in zip(h, data[i:i + 8], strict=True)), True)
    return _des(ka, _des(kb, h, False), True)
