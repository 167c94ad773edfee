"""The SAM reader's frames, declared once (construct) for the adapter and its wire peer.

    AA AA AA 96 69 | length (2 bytes, big-endian) | content | XOR checksum

`length` counts everything after itself, the checksum included; the checksum is the XOR of
every byte after the preamble (the length bytes and the content). A request's content is
command, parameter, data; a reply's is SW1 SW2 SW3, data.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from enum import IntEnum

from construct import (
    Byte,
    Bytes,
    Checksum,
    ChecksumError,
    Const,
    ConstructError,
    GreedyBytes,
    Int16ub,
    Rebuild,
    Struct,
    len_,
    this,
)

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER = len(PREAMBLE) + 2  # preamble and length: enough to know how much follows
MAX_LENGTH = 0x1000  # the longest reply (text, photo and fingerprints) is 0x0908


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


Frame = Struct(
    "preamble" / Const(PREAMBLE),
    "length" / Rebuild(Int16ub, len_(this.content) + 1),
    "content" / Bytes(this.length - 1),
    "checksum" / Checksum(
        Byte, xor, lambda ctx: ctx.length.to_bytes(2, "big") + bytes(ctx.content)),
)
RequestContent = Struct("command" / Byte, "parameter" / Byte, "data" / GreedyBytes)
ReplyContent = Struct("sw1" / Byte, "sw2" / Byte, "sw3" / Byte, "data" / GreedyBytes)
# The answer to "read text and photo" (30 01): both lengths, then the blocks.
TextAndPhoto = Struct(
    "text_length" / Int16ub,
    "photo_length" / Int16ub,
    "text" / Bytes(this.text_length),
    "photo" / Bytes(this.photo_length),
)


FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_AND_PHOTO = (0x30, 0x01)
READ_WITH_FINGERPRINT = (0x30, 0x10)
SAM_ID = (0x12, 0xFF)


class Sw3(IntEnum):
    """The reply's status byte (SW1 SW2 are 00 00 on every reply this reader gives)."""

    OK = 0x90
    CARD_FOUND = 0x9F
    FIND_FAILED = 0x80  # no card on the reader
    SELECT_FAILED = 0x81
    READ_FAILED = 0x41  # the card went away, or could not be read
    CHECKSUM_ERROR = 0x10  # the module got a frame with a bad checksum
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21  # a command it does not know
    NO_PERMISSION = 0x23
    SAM_FAULT = 0x60  # the SAM module itself is not working


class FrameError(ValueError):
    """Bytes that are not a good frame: wrong preamble, length, or checksum."""


@dataclass(frozen=True)
class Request:
    command: int
    parameter: int
    data: bytes = b""


@dataclass(frozen=True)
class Reply:
    sw3: int
    data: bytes = b""
    sw1: int = 0
    sw2: int = 0


def build_request(command: tuple[int, int], data: bytes = b"") -> bytes:
    content = RequestContent.build({"command": command[0], "parameter": command[1],
                                    "data": data})
    return bytes(Frame.build({"content": content}))


def build_reply(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    content = ReplyContent.build({"sw1": sw1, "sw2": sw2, "sw3": sw3, "data": data})
    return bytes(Frame.build({"content": content}))


def frame_length(header: bytes) -> int:
    """How many bytes follow a 7-byte header; FrameError if it is not a header."""
    if len(header) != HEADER or not header.startswith(PREAMBLE):
        raise FrameError(f"not a frame header: {header.hex(' ')}")
    length = int.from_bytes(header[5:7], "big")
    if not 1 <= length <= MAX_LENGTH:
        raise FrameError(f"impossible frame length {length}")
    return length


def _content(data: bytes) -> bytes:
    try:
        parsed = Frame.parse(data)
    except ChecksumError as e:
        raise FrameError("checksum does not match") from e
    except ConstructError as e:
        raise FrameError(f"not a frame: {e}") from e
    if HEADER + parsed.length != len(data):
        raise FrameError("trailing bytes after the frame")
    return bytes(parsed.content)


def parse_reply(data: bytes) -> Reply:
    content = _content(data)
    if len(content) < 3:
        raise FrameError("a reply needs SW1 SW2 SW3")
    r = ReplyContent.parse(content)
    return Reply(r.sw3, bytes(r.data), r.sw1, r.sw2)


def parse_request(data: bytes) -> Request:
    content = _content(data)
    if len(content) < 2:
        raise FrameError("a request needs a command and a parameter")
    r = RequestContent.parse(content)
    return Request(r.command, r.parameter, bytes(r.data))


def parse_text_and_photo(data: bytes) -> tuple[bytes, bytes]:
    """The 30 01 answer's text and photo blocks; FrameError if the lengths do not add up."""
    try:
        parsed = TextAndPhoto.parse(data)
    except ConstructError as e:
        raise FrameError(f"text and photo do not fit the reply: {e}") from e
    if 4 + parsed.text_length + parsed.photo_length != len(data):
        raise FrameError("text and photo lengths do not add up to the reply")
    return bytes(parsed.text), bytes(parsed.photo)


def build_text_and_photo(text: bytes, photo: bytes) -> bytes:
    return bytes(TextAndPhoto.build({"text_length": len(text), "photo_length": len(photo),
                                     "text": text, "photo": photo}))
