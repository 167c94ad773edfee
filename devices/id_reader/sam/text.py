"""The 256-byte text block a SAM module reads off a card, in UCS-2LE, and its code tables.

Three layouts share the block; byte 248 tells them apart: `J` is a Hong Kong/Macau/Taiwan
residence permit (港澳台居民居住证), `I` a foreigner's permanent residence permit
(外国人永久居留身份证), anything else a resident ID card (居民身份证). Each layout is declared once
and serves both the adapter (decode) and the wire peer (encode). Fields are padded with spaces.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from construct import Bytes, ConstructError, Struct

from devices.id_reader.protocol import DocumentKind, Identity

TEXT_SIZE = 256
TYPE_OFFSET = 248


class TextError(ValueError):
    """A text block this decoder cannot make sense of."""


ResidentIdText = Struct(
    "name" / Bytes(30), "sex" / Bytes(2), "ethnic" / Bytes(4), "birth" / Bytes(16),
    "address" / Bytes(70), "number" / Bytes(36), "issuer" / Bytes(30),
    "valid_from" / Bytes(16), "valid_to" / Bytes(16), "reserved" / Bytes(36),
)
HmtPermitText = Struct(
    "name" / Bytes(30), "sex" / Bytes(2), "reserved1" / Bytes(4), "birth" / Bytes(16),
    "address" / Bytes(70), "number" / Bytes(36), "issuer" / Bytes(30),
    "valid_from" / Bytes(16), "valid_to" / Bytes(16), "pass_number" / Bytes(18),
    "issue_count" / Bytes(4), "reserved2" / Bytes(6), "card_type" / Bytes(2),
    "reserved3" / Bytes(6),
)
ForeignPermitText = Struct(
    "name_latin" / Bytes(120), "sex" / Bytes(2), "number" / Bytes(30),
    "nationality" / Bytes(6), "name" / Bytes(30), "valid_from" / Bytes(16),
    "valid_to" / Bytes(16), "birth" / Bytes(16), "version" / Bytes(4),
    "issuer_code" / Bytes(8), "card_type" / Bytes(2), "reserved" / Bytes(6),
)
LAYOUTS = {DocumentKind.RESIDENT_ID: ResidentIdText,
           DocumentKind.HMT_RESIDENCE_PERMIT: HmtPermitText,
           DocumentKind.FOREIGN_PERMANENT_RESIDENCE: ForeignPermitText}

# GB/T 2261.1: sex codes.
SEX = {"0": "", "1": "男", "2": "女", "9": ""}
# GB/T 3304: ethnic groups, by the two-digit code a resident ID card carries.
ETHNIC_GROUPS = dict(enumerate((
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
    "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
    "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京",
    "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"), start=1))
ETHNIC_GROUPS.update({97: "其他", 98: "外国血统中国籍人士"})
_ETHNIC_CODE = {name: code for code, name in ETHNIC_GROUPS.items()}
_SEX_CODE = {"男": "1", "女": "2", "": "9"}


def kind_of(block: bytes) -> DocumentKind:
    marker = block[TYPE_OFFSET:TYPE_OFFSET + 2]
    if marker == "J".encode("utf-16-le"):
        return DocumentKind.HMT_RESIDENCE_PERMIT
    if marker == "I".encode("utf-16-le"):
        return DocumentKind.FOREIGN_PERMANENT_RESIDENCE
    return DocumentKind.RESIDENT_ID


def _text(raw: bytes, field: str) -> str:
    try:
        value = raw.decode("utf-16-le")
    except UnicodeDecodeError as e:
        raise TextError(f"{field} is not UCS-2 text") from e
    value = value.rstrip(" \x00")
    if any(ord(c) < 0x20 for c in value):
        raise TextError(f"{field} holds control characters")
    return value


def decode(block: bytes) -> Identity:
    """The identity in a text block. TextError when the block does not hold one."""
    if len(block) != TEXT_SIZE:
        raise TextError(f"a text block is {TEXT_SIZE} bytes, not {len(block)}")
    kind = kind_of(block)
    try:
        f = LAYOUTS[kind].parse(block)
    except ConstructError as e:  # cannot happen for 256 bytes; kept for the record
        raise TextError(str(e)) from e
    sex = _text(f.sex, "sex")
    if sex not in SEX:
        raise TextError(f"unknown sex code {sex!r}")
    fields: dict[str, Any] = {
        "id_number": _text(f.number, "number"),
        "name": _text(f.name, "name"),
        "sex": SEX[sex],
        "birth_date": _text(f.birth, "birth date"),
        "valid_from": _text(f.valid_from, "valid from"),
        "valid_to": _text(f.valid_to, "valid to"),
    }
    if kind is DocumentKind.FOREIGN_PERMANENT_RESIDENCE:
        fields["name_latin"] = _text(f.name_latin, "Latin name")
        fields["nationality"] = _text(f.nationality, "nationality")
        fields["issuer"] = _text(f.issuer_code, "issuer")
        # Many holders have no Chinese name: then the Latin one is the name they go by.
        fields["name"] = fields["name"] or fields["name_latin"]
    else:
        fields.update(address=_text(f.address, "address"), issuer=_text(f.issuer, "issuer"),
                      nationality="CHN")
    if kind is DocumentKind.RESIDENT_ID:
        code = _text(f.ethnic, "ethnic group")
        if not code.isdigit() or int(code) not in ETHNIC_GROUPS:
            raise TextError(f"unknown ethnic group code {code!r}")
        fields["ethnic_group"] = ETHNIC_GROUPS[int(code)]
    if not fields["id_number"] or not fields["name"]:
        raise TextError("the block holds no number or no name")
    if len(fields["birth_date"]) != 8 or not fields["birth_date"].isdigit():
        raise TextError(f"birth date {fields['birth_date']!r} is not YYYYMMDD")
    return replace(Identity(kind, "", ""), **fields)


def _field(value: str, size: int) -> bytes:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{value!r} does not fit {size} bytes")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def encode(identity: Identity) -> bytes:
    """The text block a card holding this identity carries (for the wire peer's cards)."""
    kind = identity.kind
    sizes = {sc.name: sc.subcon.length for sc in LAYOUTS[kind].subcons}
    values = {
        "name": identity.name if kind is not DocumentKind.FOREIGN_PERMANENT_RESIDENCE
        or identity.name != identity.name_latin else "",
        "sex": _SEX_CODE.get(identity.sex, "9"), "birth": identity.birth_date,
        "number": identity.id_number, "valid_from": identity.valid_from,
        "valid_to": identity.valid_to, "address": identity.address, "issuer": identity.issuer,
        "ethnic": f"{_ETHNIC_CODE.get(identity.ethnic_group, 1):02d}",
        "name_latin": identity.name_latin, "nationality": identity.nationality,
        "issuer_code": identity.issuer, "version": "01", "card_type": {
            DocumentKind.HMT_RESIDENCE_PERMIT: "J",
            DocumentKind.FOREIGN_PERMANENT_RESIDENCE: "I"}.get(kind, ""),
    }
    return b"".join(_field(values.get(name, ""), size) for name, size in sizes.items())
