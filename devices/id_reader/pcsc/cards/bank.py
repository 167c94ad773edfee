"""A virtual EMV bank card: PPSE, SELECT, GET PROCESSING OPTIONS, READ RECORD, public data
only. As a T=0 card it answers case-4 commands with 61xx, to be fetched by GET RESPONSE."""

from __future__ import annotations

from devices.id_reader.pcsc import tlv
from devices.id_reader.pcsc.cards.vpcd import T0_ATR, VirtualCard
from devices.id_reader.pcsc.emv import PPSE

OK = b"\x90\x00"
NOT_FOUND = b"\x6a\x82"


class VirtualBankCard(VirtualCard):
    def __init__(self, pan: str, expiry_yymm: str, name: str = "", *, t0: bool = False,
                 aid: bytes = bytes.fromhex("A000000333010101"), label: str = "UnionPay Debit",
                 pdol: bytes = b"") -> None:
        super().__init__()
        self.t0 = t0
        if t0:
            self.atr = T0_ATR
        self.aid = aid
        self._pending = b""
        pan_bcd = bytes.fromhex(pan + ("F" if len(pan) % 2 else ""))
        record = tlv.build(0x70, tlv.build(0x5A, pan_bcd)
                           + tlv.build(0x5F24, bytes.fromhex(expiry_yymm + "31"))
                           + tlv.build(0x5F20, name.encode("ascii")))
        fci_extra = tlv.build(0x9F38, pdol) if pdol else b""
        self._files = {
            PPSE: tlv.build(0x6F, tlv.build(0x84, PPSE) + tlv.build(0xA5, tlv.build(
                0xBF0C, tlv.build(0x61, tlv.build(0x4F, aid) + tlv.build(0x50, label.encode())))
            )),
            aid: tlv.build(0x6F, tlv.build(0x84, aid) + tlv.build(0xA5, tlv.build(
                0x50, label.encode()) + fci_extra)),
        }
        self._records = {(1, 1): record}
        self._gpo = tlv.build(0x80, b"\x18\x00" + bytes([1 << 3, 1, 1, 0]))

    def _answer(self, data: bytes) -> bytes:
        """T=0 hands back case-4 answers through GET RESPONSE."""
        if self.t0 and data:
            self._pending = data
            return bytes([0x61, min(len(data), 0xFF)])
        return data + OK

    def respond(self, apdu: bytes) -> bytes:
        _cla, ins, p1, p2 = apdu[:4]
        if ins == 0xC0:  # GET RESPONSE
            data, self._pending = self._pending[:apdu[4] or 256], self._pending[apdu[4] or 256:]
            more = bytes([0x61, min(len(self._pending), 0xFF)]) if self._pending else OK
            return data + more
        if ins == 0xA4:
            name = apdu[5:5 + apdu[4]]
            return self._answer(self._files[name]) if name in self._files else NOT_FOUND
        if ins == 0xA8:
            return self._answer(self._gpo)
        if ins == 0xB2:
            record = self._records.get((p2 >> 3, p1))
            return (record + OK) if record is not None else b"\x6a\x83"  # case 2: no 61xx
        return b"\x6d\x00"
