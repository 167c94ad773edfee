"""BER-TLV as smart cards use it (EMV records, ICAO data groups): tags of one or more bytes,
lengths in short or long form, constructed tags holding more TLVs. Bad input is a TLVError."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


class TLVError(ValueError):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True)
class TLV:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes((self.tag.bit_length() + 7) // 8 or 1, "big")[0]
        return bool(first & 0x20)


def _tag(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise TLVError("a tag is cut short")
    tag = data[i]
    i += 1
    if tag & 0x1F == 0x1F:  # more tag bytes follow while their top bit is set
        while True:
            if i >= len(data):
                raise TLVError("a multi-byte tag is cut short")
            tag = (tag << 8) | data[i]
            i += 1
            if not data[i - 1] & 0x80:
                break
            if tag > 0xFFFFFFFF:
                raise TLVError("a tag longer than four bytes")
    return tag, i


def _length(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise TLVError("a length is cut short")
    first = data[i]
    i += 1
    if first < 0x80:
        return first, i
    count = first & 0x7F
    if count == 0 or count > 3 or i + count > len(data):
        raise TLVError(f"a length of form {first:#04x} is not allowed here")
    return int.from_bytes(data[i:i + count], "big"), i + count


def parse(data: bytes) -> list[TLV]:
    """The TLVs at this level (padding bytes 00 and FF between them are skipped)."""
    out: list[TLV] = []
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        tag, i = _tag(data, i)
        length, i = _length(data, i)
        if i + length > len(data):
            raise TLVError(f"tag {tag:X} says {length} bytes, {len(data) - i} are left")
        out.append(TLV(tag, data[i:i + length]))
        i += length
    return out


def walk(data: bytes) -> Iterator[TLV]:
    """Every TLV, depth first, going into constructed ones."""
    for item in parse(data):
        yield item
        if item.constructed:
            yield from walk(item.value)


def find(data: bytes, tag: int) -> bytes | None:
    """The first value with this tag anywhere inside, or None."""
    return next((t.value for t in walk(data) if t.tag == tag), None)


def build(tag: int, value: bytes) -> bytes:
    """One TLV (for virtual cards in tests and for commands that carry TLV data)."""
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return tag_bytes + length + value
