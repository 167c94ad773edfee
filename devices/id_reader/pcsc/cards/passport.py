"""A virtual ICAO 9303 passport chip: BAC against its MRZ, then secure messaging for SELECT
and READ BINARY of EF.COM, DG1 and DG2 (a face image of any size, read in chunks)."""

from __future__ import annotations

from devices.id_reader.pcsc import tlv
from devices.id_reader.pcsc.cards.vpcd import VirtualCard
from devices.id_reader.pcsc.icao9303.bac import EMRTD_AID, ChipBac
from devices.id_reader.pcsc.icao9303.mrz import MrzKey, check_digit
from devices.id_reader.pcsc.icao9303.passport import EF_COM, EF_DG1, EF_DG2
from devices.id_reader.pcsc.icao9303.sm import SessionKeys, SmError

OK, NOT_FOUND, SM_BROKEN, DENIED = b"\x90\x00", b"\x6a\x82", b"\x69\x88", b"\x63\x00"


def td3(surname: str, given: str, number: str, nationality: str, birth: str, sex: str,
        expiry: str, state: str = "UTO") -> str:
    """A passport's 88-character MRZ, check digits computed."""
    names = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<")).upper()
    line1 = f"P<{state}{names}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    body = (num + check_digit(num) + nationality + birth + check_digit(birth) + sex + expiry
            + check_digit(expiry) + "<" * 14)
    body += check_digit("<" * 14)
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1 + body + check_digit(composite)


class VirtualPassport(VirtualCard):
    def __init__(self, mrz: str, face_jpeg: bytes) -> None:
        super().__init__()
        self.key = MrzKey.parse(f"{mrz[44:53]}/{mrz[57:63]}/{mrz[65:71]}")
        self._bac = ChipBac(self.key)
        self._keys: SessionKeys | None = None
        self._selected = b""
        biometric = b"FAC\x00010\x00" + bytes(14) + face_jpeg  # an ISO 19794-5 record
        self._files = {
            EF_COM: tlv.build(0x60, tlv.build(0x5F01, b"0107") + tlv.build(0x5C, b"\x61\x75")),
            EF_DG1: tlv.build(0x61, tlv.build(0x5F1F, mrz.encode("ascii"))),
            EF_DG2: tlv.build(0x75, tlv.build(0x7F61, tlv.build(0x02, b"\x01") + tlv.build(
                0x7F60, tlv.build(0xA1, tlv.build(0x80, b"\x01\x01")) + tlv.build(
                    0x5F2E, biometric)))),
        }

    def respond(self, apdu: bytes) -> bytes:
        ins = apdu[1]
        if apdu[0] & 0x0C == 0x0C:
            return self._protected(apdu)
        if ins == 0xA4 and apdu[2] == 0x04:
            self._keys = None
            return OK if apdu[5:5 + apdu[4]] == EMRTD_AID else NOT_FOUND
        if ins == 0x84:
            return self._bac.challenge() + OK
        if ins == 0x82:
            done = self._bac.authenticate(apdu[5:5 + apdu[4]])
            if done is None:
                return DENIED
            answer, self._keys = done
            return answer + OK
        return SM_BROKEN  # files are only reachable through secure messaging

    def _protected(self, apdu: bytes) -> bytes:
        if self._keys is None:
            return SM_BROKEN
        try:
            ins, p1, p2, data, le = self._keys.open_command(apdu)
        except SmError:
            self._keys = None  # a chip ends secure messaging on a bad MAC
            return SM_BROKEN
        if ins == 0xA4:
            if data not in self._files:
                return self._keys.seal_answer(b"", 0x6A82)
            self._selected = data
            return self._keys.seal_answer(b"", 0x9000)
        if ins == 0xB0 and self._selected:
            content = self._files[self._selected]
            offset = (p1 << 8) | p2
            return self._keys.seal_answer(content[offset:offset + (le or 256)], 0x9000)
        return self._keys.seal_answer(b"", 0x6D00)
