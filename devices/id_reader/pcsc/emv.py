"""Bank cards, EMV public data only: which application, then PAN, cardholder name and expiry.

PPSE (contactless directory) first, then PSE (contact directory), then the well-known AIDs;
SELECT the application, GET PROCESSING OPTIONS (with zeros for whatever the PDOL asks), and
READ RECORD for every record the AFL names. No PIN is asked, no cryptogram computed. The PAN
is personal data: masked everywhere but in the envelope to the back office.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from devices.id_reader.pcsc import tlv
from devices.id_reader.pcsc.apdu import Response, Transmit, command, exchange, select_by_name
from devices.id_reader.protocol import DocumentKind, Identity

PPSE = b"2PAY.SYS.DDF01"
PSE = b"1PAY.SYS.DDF01"
KNOWN_AIDS = (
    bytes.fromhex("A000000333010101"),  # UnionPay debit
    bytes.fromhex("A000000333010102"),  # UnionPay credit
    bytes.fromhex("A0000000031010"),  # Visa
    bytes.fromhex("A0000000041010"),  # Mastercard
)
TAG_AID, TAG_LABEL, TAG_PDOL, TAG_AFL, TAG_FORMAT1 = 0x4F, 0x50, 0x9F38, 0x94, 0x80
TAG_PAN, TAG_NAME, TAG_EXPIRY, TAG_TRACK2 = 0x5A, 0x5F20, 0x5F24, 0x57


class NotABankCard(Exception):
    """No payment application answers on this card."""


@dataclass(frozen=True)
class BankCard:
    pan: str
    name: str  # as on the chip; often blank or "/" on Chinese cards
    expiry: str  # YYYYMMDD, the last day of the expiry month
    label: str


def _select(transmit: Transmit, name: bytes) -> Response:
    return exchange(transmit, select_by_name(name))


def _aids_from_directory(transmit: Transmit) -> list[bytes]:
    ppse = _select(transmit, PPSE)
    if ppse.ok:
        return [t.value for t in tlv.walk(ppse.data) if t.tag == TAG_AID]
    pse = _select(transmit, PSE)
    if not pse.ok:
        return []
    sfi = tlv.find(pse.data, 0x88)
    if not sfi:
        return []
    aids: list[bytes] = []
    for record in range(1, 17):
        r = exchange(transmit, command(0x00, 0xB2, record, (sfi[0] << 3) | 0x04, le=0x00))
        if not r.ok:
            break
        aids += [t.value for t in tlv.walk(r.data) if t.tag == TAG_AID]
    return aids


def _pdol_zeros(pdol: bytes | None) -> bytes:
    """GPO data: tag 83 with as many zero bytes as the PDOL's entries ask for."""
    total, i = 0, 0
    data = pdol or b""
    while i < len(data):
        tag_len = 2 if data[i] & 0x1F == 0x1F else 1
        if i + tag_len >= len(data):
            raise tlv.TLVError("a PDOL entry is cut short")
        total += data[i + tag_len]
        i += tag_len + 1
    return tlv.build(0x83, bytes(total))


def _afl(gpo: bytes) -> bytes:
    items = tlv.parse(gpo)
    if items and items[0].tag == TAG_FORMAT1:  # AIP (2 bytes) then the AFL
        return items[0].value[2:]
    return tlv.find(gpo, TAG_AFL) or b""


def read_bank_card(transmit: Transmit) -> BankCard:
    """Raises NotABankCard, tlv.TLVError (garbage) or apdu.CardError (misbehaviour)."""
    for aid in [*_aids_from_directory(transmit), *KNOWN_AIDS]:
        selected = _select(transmit, aid)
        if selected.ok:
            break
    else:
        raise NotABankCard("no payment application on the card")
    label = (tlv.find(selected.data, TAG_LABEL) or b"").decode("ascii", "replace")
    gpo = exchange(transmit, command(0x80, 0xA8, 0x00, 0x00,
                                     _pdol_zeros(tlv.find(selected.data, TAG_PDOL)), 0x00))
    if not gpo.ok:
        raise NotABankCard(f"GET PROCESSING OPTIONS refused ({gpo.sw:04X})")
    afl = _afl(gpo.data)
    found: dict[int, bytes] = {}
    for i in range(0, len(afl) - 3, 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        for record in range(first, last + 1):
            r = exchange(transmit, command(0x00, 0xB2, record, (sfi << 3) | 0x04, le=0x00))
            if r.ok:
                for t in tlv.walk(r.data):
                    found.setdefault(t.tag, t.value)
    pan = found.get(TAG_PAN, b"").hex().rstrip("f").upper()
    expiry = found.get(TAG_EXPIRY, b"").hex()
    if not pan and TAG_TRACK2 in found:  # PAN D YYMM ... in track 2 equivalent data
        track2 = found[TAG_TRACK2].hex().upper()
        pan, _, rest = track2.partition("D")
        expiry = expiry or rest[:4] + "31"
    if not pan.isdigit() or len(expiry) != 6 or not expiry.isdigit():
        raise NotABankCard("the card gives no PAN or expiry")
    year, month = 2000 + int(expiry[:2]), int(expiry[2:4])
    if not 1 <= month <= 12:
        raise NotABankCard(f"expiry month {month} is not a month")
    last_day = calendar.monthrange(year, month)[1]
    name = found.get(TAG_NAME, b"").decode("ascii", "replace").strip().strip("/").strip()
    return BankCard(pan, name, f"{year:04d}{month:02d}{last_day:02d}", label)


def as_identity(card: BankCard) -> Identity:
    return Identity(DocumentKind.BANK_CARD, card.pan, card.name or card.label or "银行卡",
                    valid_to=card.expiry, name_latin=card.name, issuer=card.label)
