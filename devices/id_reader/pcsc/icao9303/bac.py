"""Basic Access Control: prove knowledge of the MRZ key to the chip, agree session keys.

The chip's side of the same exchange (`ChipBac`) serves the virtual passport."""

from __future__ import annotations

import os
from collections.abc import Callable

from devices.id_reader.pcsc.apdu import Transmit, command, exchange, select_by_name
from devices.id_reader.pcsc.icao9303 import crypto
from devices.id_reader.pcsc.icao9303.mrz import MrzKey
from devices.id_reader.pcsc.icao9303.sm import SessionKeys

EMRTD_AID = bytes.fromhex("A0000002471001")


class AccessDenied(Exception):
    """The chip refused the MRZ key (the details typed or read do not match this passport)."""


class NoPassportApplet(Exception):
    """The card has no eMRTD application: it is no passport."""


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def session_keys(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SessionKeys:
    seed = _xor(k_ifd, k_ic)
    return SessionKeys(crypto.derive(seed, crypto.ENC), crypto.derive(seed, crypto.MAC),
                       int.from_bytes(rnd_ic[4:8] + rnd_ifd[4:8], "big"))


def establish(transmit: Transmit, key: MrzKey,
              random: Callable[[int], bytes] = os.urandom) -> SessionKeys:
    selected = exchange(transmit, select_by_name(EMRTD_AID, p2=0x0C))
    if not selected.ok:
        raise NoPassportApplet(f"no eMRTD application ({selected.sw:04X})")
    challenge = exchange(transmit, command(0x00, 0x84, 0x00, 0x00, le=8))
    if not challenge.ok or len(challenge.data) != 8:
        raise AccessDenied(f"GET CHALLENGE refused ({challenge.sw:04X})")
    rnd_ic, rnd_ifd, k_ifd = challenge.data, random(8), random(16)
    seed = crypto.k_seed(key.seed_input())
    k_enc, k_mac = crypto.derive(seed, crypto.ENC), crypto.derive(seed, crypto.MAC)
    e_ifd = crypto.encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    answer = exchange(transmit, command(0x00, 0x82, 0x00, 0x00,
                                        e_ifd + crypto.retail_mac(k_mac, crypto.pad(e_ifd)),
                                        0x28))
    if not answer.ok or len(answer.data) != 40:
        raise AccessDenied(f"the chip refused the MRZ key ({answer.sw:04X})")
    e_ic, m_ic = answer.data[:32], answer.data[32:]
    if crypto.retail_mac(k_mac, crypto.pad(e_ic)) != m_ic:
        raise AccessDenied("the chip's answer carries a wrong MAC")
    r = crypto.decrypt(k_enc, e_ic)
    if r[8:16] != rnd_ifd:
        raise AccessDenied("the chip did not return our challenge")
    return session_keys(k_ifd, r[16:32], rnd_ic, rnd_ifd)


class ChipBac:
    """The chip's half: a challenge, then the terminal's proof checked and answered."""

    def __init__(self, key: MrzKey, random: Callable[[int], bytes] = os.urandom) -> None:
        seed = crypto.k_seed(key.seed_input())
        self._enc, self._mac = crypto.derive(seed, crypto.ENC), crypto.derive(seed, crypto.MAC)
        self._random = random
        self._rnd_ic: bytes | None = None

    def challenge(self) -> bytes:
        self._rnd_ic = self._random(8)
        return self._rnd_ic

    def authenticate(self, data: bytes) -> tuple[bytes, SessionKeys] | None:
        """The answer to MUTUAL AUTHENTICATE and the session keys, or None (wrong key)."""
        if self._rnd_ic is None or len(data) != 40:
            return None
        e_ifd, m_ifd = data[:32], data[32:]
        if crypto.retail_mac(self._mac, crypto.pad(e_ifd)) != m_ifd:
            return None
        s = crypto.decrypt(self._enc, e_ifd)
        rnd_ifd, rnd_ic, k_ifd = s[:8], s[8:16], s[16:32]
        if rnd_ic != self._rnd_ic:
            return None
        k_ic = self._random(16)
        e_ic = crypto.encrypt(self._enc, rnd_ic + rnd_ifd + k_ic)
        answer = e_ic + crypto.retail_mac(self._mac, crypto.pad(e_ic))
        return answer, session_keys(k_ifd, k_ic, rnd_ic, rnd_ifd)
