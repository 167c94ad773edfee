"""Reading a passport after BAC: EF.COM, DG1 (the MRZ) into the identity, DG2's face image
out of its biometric template. Files longer than one answer are read in chunks."""

from __future__ import annotations

from devices.id_reader.pcsc import tlv
from devices.id_reader.pcsc.apdu import Transmit, exchange
from devices.id_reader.pcsc.icao9303 import bac
from devices.id_reader.pcsc.icao9303.mrz import MrzKey, full_date, parse_td3
from devices.id_reader.pcsc.icao9303.sm import SessionKeys, SmError
from devices.id_reader.protocol import DocumentKind, Identity, Photo

EF_COM, EF_DG1, EF_DG2 = b"\x01\x1e", b"\x01\x01", b"\x01\x02"
CHUNK = 0xDF  # what fits one protected answer with its DO87, DO99 and MAC
JPEG, JP2 = b"\xff\xd8\xff", b"\x00\x00\x00\x0cjP  \r\n\x87\n"
SEX = {"M": "男", "F": "女"}


class PassportError(Exception):
    """The chip answered, but not what a passport holds."""


def _send(transmit: Transmit, keys: SessionKeys, apdu: list[int]) -> tuple[bytes, int]:
    answer = exchange(transmit, apdu)
    if answer.sw != 0x9000:  # an error outside secure messaging (e.g. 6988: SM broken)
        return b"", answer.sw
    return keys.unwrap(answer.data)


def read_file(transmit: Transmit, keys: SessionKeys, fid: bytes) -> bytes:
    _, sw = _send(transmit, keys, keys.wrap(0x00, 0xA4, 0x02, 0x0C, fid))
    if sw != 0x9000:
        raise PassportError(f"file {fid.hex()} cannot be selected ({sw:04X})")
    head, sw = _send(transmit, keys, keys.wrap(0x00, 0xB0, 0x00, 0x00, le=4))
    if sw != 0x9000 or len(head) < 2:
        raise PassportError(f"file {fid.hex()} cannot be read ({sw:04X})")
    # The file is one TLV: its header says how long it is.
    length, offset = head[1], 2
    if head[1] & 0x80:
        count = head[1] & 0x7F
        if count not in (1, 2, 3) or len(head) < 2 + count:
            raise PassportError(f"file {fid.hex()} has an impossible length")
        length, offset = int.from_bytes(head[2:2 + count], "big"), 2 + count
    total = offset + length
    data = bytearray(head[:total])
    while len(data) < total:
        at = len(data)
        chunk, sw = _send(transmit, keys, keys.wrap(0x00, 0xB0, at >> 8, at & 0xFF,
                                                    le=min(CHUNK, total - at)))
        if sw != 0x9000 or not chunk:
            raise PassportError(f"file {fid.hex()} stops at byte {at} ({sw:04X})")
        data += chunk
    return bytes(data)


def face_image(dg2: bytes) -> Photo | None:
    """The face in DG2's biometric data block (ISO 19794-5: a header, then the image)."""
    block = tlv.find(dg2, 0x5F2E) or tlv.find(dg2, 0x7F2E)
    if not block:
        return None
    for signature, fmt in ((JPEG, "jpeg"), (JP2, "jpeg2000")):
        at = block.find(signature)
        if at >= 0:
            return Photo(block[at:], fmt)
    return None


def read_passport(transmit: Transmit, key: MrzKey) -> Identity:
    """Raises bac.NoPassportApplet, bac.AccessDenied, PassportError, SmError, TLVError."""
    keys = bac.establish(transmit, key)
    read_file(transmit, keys, EF_COM)
    mrz_bytes = tlv.find(read_file(transmit, keys, EF_DG1), 0x5F1F)
    if mrz_bytes is None:
        raise PassportError("DG1 holds no MRZ")
    try:
        td3 = parse_td3(mrz_bytes.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as e:
        raise PassportError(f"DG1's MRZ: {e}") from e
    photo = face_image(read_file(transmit, keys, EF_DG2))
    latin = f"{td3.surname} {td3.given_names}".strip()
    return Identity(
        DocumentKind.PASSPORT, td3.document_number, latin, SEX.get(td3.sex, ""),
        full_date(td3.birth_date, future=False), valid_to=full_date(td3.expiry, future=True),
        name_latin=latin, nationality=td3.nationality, issuer=td3.issuing_state, photo=photo)


__all__ = ["PassportError", "SmError", "face_image", "read_file", "read_passport"]
