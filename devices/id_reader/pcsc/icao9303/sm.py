"""Secure messaging after BAC (ICAO 9303 part 11, 9.8): every command and answer encrypted
(DO87) and MACed (DO8E) under the session keys, with a send sequence counter. Both ends are
here, declared once: the terminal's (the adapter) and the chip's (the virtual passport)."""

from __future__ import annotations

from dataclasses import dataclass

from devices.id_reader.pcsc import tlv
from devices.id_reader.pcsc.icao9303 import crypto


class SmError(ValueError):
    """An answer whose MAC or structure is wrong: it is not from the chip we authenticated."""


@dataclass
class SessionKeys:
    enc: bytes
    mac: bytes
    ssc: int  # the send sequence counter, 8 bytes, incremented before every message

    def _next(self) -> bytes:
        self.ssc = (self.ssc + 1) % (1 << 64)
        return self.ssc.to_bytes(8, "big")

    def _mac(self, ssc: bytes, data: bytes) -> bytes:
        return crypto.retail_mac(self.mac, crypto.pad(ssc + data))

    def _do87(self, data: bytes) -> bytes:
        if not data:
            return b""
        return tlv.build(0x87, b"\x01" + crypto.encrypt(self.enc, crypto.pad(data)))

    def _open87(self, value: bytes) -> bytes:
        if not value or value[0] != 0x01:
            raise SmError("DO87 without its padding indicator")
        try:
            return crypto.unpad(crypto.decrypt(self.enc, value[1:]))
        except ValueError as e:
            raise SmError(f"DO87 does not decrypt: {e}") from e

    # -- the terminal
    def wrap(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"",
             le: int | None = None) -> list[int]:
        header = bytes([cla | 0x0C, ins, p1, p2])
        do87 = self._do87(data)
        do97 = tlv.build(0x97, bytes([le & 0xFF])) if le is not None else b""
        cc = self._mac(self._next(), crypto.pad(header) + do87 + do97)
        body = do87 + do97 + tlv.build(0x8E, cc)
        return [*header, len(body), *body, 0x00]

    def unwrap(self, answer: bytes) -> tuple[bytes, int]:
        """The chip's answer: (data, status word)."""
        try:
            items = {t.tag: t for t in tlv.parse(answer)}
        except tlv.TLVError as e:
            raise SmError(f"the answer is not secure-messaging TLVs: {e}") from e
        if 0x99 not in items or 0x8E not in items or len(items[0x99].value) != 2:
            raise SmError("the answer lacks its status (DO99) or MAC (DO8E)")
        raw87 = tlv.build(0x87, items[0x87].value) if 0x87 in items else b""
        raw99 = tlv.build(0x99, items[0x99].value)
        if self._mac(self._next(), raw87 + raw99) != items[0x8E].value:
            raise SmError("the answer's MAC does not match")
        data = self._open87(items[0x87].value) if 0x87 in items else b""
        return data, int.from_bytes(items[0x99].value, "big")

    # -- the chip (the virtual passport in tests and the demo)
    def open_command(self, apdu: bytes) -> tuple[int, int, int, bytes, int | None]:
        """(INS, P1, P2, data, Le) of a protected command; SmError if its MAC is wrong."""
        if len(apdu) < 5:
            raise SmError("a protected command is at least 5 bytes")
        header, body = apdu[:4], apdu[5:5 + apdu[4]]
        items = {t.tag: t for t in tlv.parse(body)}
        raw87 = tlv.build(0x87, items[0x87].value) if 0x87 in items else b""
        raw97 = tlv.build(0x97, items[0x97].value) if 0x97 in items else b""
        if 0x8E not in items or self._mac(self._next(), crypto.pad(header) + raw87 + raw97) \
                != items[0x8E].value:
            raise SmError("the command's MAC does not match")
        data = self._open87(items[0x87].value) if 0x87 in items else b""
        le = items[0x97].value[0] if 0x97 in items else None
        return header[1], header[2], header[3], data, le

    def seal_answer(self, data: bytes, sw: int) -> bytes:
        do87 = self._do87(data)
        do99 = tlv.build(0x99, sw.to_bytes(2, "big"))
        cc = self._mac(self._next(), do87 + do99)
        return do87 + do99 + tlv.build(0x8E, cc) + b"\x90\x00"
