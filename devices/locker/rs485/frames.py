"""The lock boards' frames, declared once (construct) for the adapter and its wire peer.

Both protocols send fixed-length frames ending in one checksum byte over the frame's other
bytes. A board holds up to 24 locks; their sensors travel as a 3-byte bitmap whose first byte
carries locks 1-8 with lock 1 in bit 0 (lock n is bit n-1 of the bitmap read little-endian).
The bits are what the board reads on its inputs: whether a set bit means an open door or a
loaded compartment depends on the wiring, and is the adapter's setting, not the frame's.

8A/80 boards (`rs485_8a80`), 9600 8N1, checksum = XOR of the bytes before it:

    unlock         8A BB LL 11 CK       reply  8A BB LL SS CK     SS: 11 released, 00 did not
    door sensors   80 BB 00 33 CK       reply  80 BB D1 D2 D3 33 CK
    item sensors   80 BB 00 34 CK       reply  80 BB I1 I2 I3 34 CK

BB is the board's address (its DIP switches; 1 for the first board), LL the lock (1-24). The
item query is the extension of "8A/80 with IR" boards, the variant supported here: a board
without infrared sensors does not answer it, and its items are reported unknown.

Kerong-style CU boards (`rs485_kerong`), 19200 8N1, checksum = sum of the bytes before it
(STX to ETX) & 0xFF:

    status   02 AA 30 03 SUM
    unlock   02 AA 31 LL 03 SUM
    reply    02 AA 35 D1 D2 D3 I1 I2 I3 03 SUM     to both: the board's data (0x35)

AA is the board's address (0 for the first board), LL the lock (1-24), D the door (lock hook)
bits and I the infrared item-presence bits. KR-CU16 boards pack board and lock into the
address byte (16 boards of 16 locks, locks counted from 0) and answer 0x35 with two bytes of
each; this is the 24-lock variant supported here, with the board's address in a byte of its
own and locks numbered from 1 as on the 8A/80 boards.

A parsed reply has been checked against the request it answers: length, checksum, the fixed
bytes, the board's address, the lock or query. Anything else is a FrameError.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, overload

from construct import (
    Byte,
    BytesInteger,
    Checksum,
    ChecksumError,
    Const,
    ConstructError,
    If,
    RawCopy,
    Struct,
    Terminated,
    this,
)

from devices.locker.rs485.limits import LOCKS_PER_BOARD as LOCKS_PER_BOARD

MAX_BITS = (1 << LOCKS_PER_BOARD) - 1


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


def sum8(data: bytes) -> int:
    return sum(data) & 0xFF


class FrameError(ValueError):
    """Bytes that are not the answer asked for: cut short, a wrong checksum, fixed byte,
    board or command."""


def _framed(checksum: object, *fields: object) -> Struct:
    """`fields`, then one checksum byte over their bytes, and nothing after it."""
    return Struct("body" / RawCopy(Struct(*fields)),
                  "checksum" / Checksum(Byte, checksum, this.body.data), Terminated)


Bits = BytesInteger(3, swapped=True)  # lock 1 in bit 0 of the first byte

# -- 8A/80
RELEASE = 0x11  # the unlock's fourth byte
RELEASED, NOT_RELEASED = 0x11, 0x00  # the echo's: the board drove the lock, or did not
LockFrame = _framed(xor, Const(b"\x8a"), "board" / Byte, "lock" / Byte, "state" / Byte)
QueryFrame = _framed(xor, Const(b"\x80"), "board" / Byte, Const(b"\x00"), "query" / Byte)
BitmapFrame = _framed(xor, Const(b"\x80"), "board" / Byte, "bits" / Bits, "query" / Byte)
REQUEST_SIZE_8A80 = 5  # an unlock and a query alike
RELEASED_SIZE, BITMAP_SIZE = 5, 7

# -- Kerong
STATUS, UNLOCK, DATA = 0x30, 0x31, 0x35
KerongRequestFrame = _framed(sum8, Const(b"\x02"), "address" / Byte, "command" / Byte,
                             "lock" / If(this.command == UNLOCK, Byte), Const(b"\x03"))
KerongDataFrame = _framed(sum8, Const(b"\x02"), "address" / Byte, Const(bytes([DATA])),
                          "doors" / Bits, "items" / Bits, Const(b"\x03"))
KERONG_REQUEST_SIZE = {STATUS: 5, UNLOCK: 6}  # by command
KERONG_REPLY_SIZE = 11


class Sensors(IntEnum):
    """What an 8A/80 query asks for (its fourth byte)."""

    DOORS = 0x33
    ITEMS = 0x34


@dataclass(frozen=True)
class Unlock:
    """Release one lock (both protocols)."""

    board: int
    lock: int


@dataclass(frozen=True)
class Query:
    """8A/80: the door or the item bitmap of one board."""

    board: int
    sensors: Sensors


@dataclass(frozen=True)
class Released:
    """8A/80: the board's echo of an unlock, saying whether it drove the lock."""

    board: int
    lock: int
    released: bool


@dataclass(frozen=True)
class Bitmap:
    """8A/80: the answer to a query."""

    board: int
    sensors: Sensors
    bits: int


@dataclass(frozen=True)
class AskStatus:
    """Kerong: the board's data."""

    board: int


@dataclass(frozen=True)
class BoardData:
    """Kerong: the answer to a status request or an unlock."""

    board: int
    doors: int
    items: int


def _parse(frame: Struct, data: bytes) -> Any:
    try:
        parsed = frame.parse(data)
    except ChecksumError as e:
        raise FrameError(f"checksum does not match: {data.hex(' ')}") from e
    except ConstructError as e:
        raise FrameError(f"not a frame: {data.hex(' ')}") from e
    return parsed.body.value


def _check(asked: int, got: int, what: str) -> None:
    if got != asked:
        raise FrameError(f"an answer about {what} {got} to a request about {what} {asked}")


# ---------------------------------------------------------------- 8A/80
def build_8a80(message: Unlock | Query | Released | Bitmap) -> bytes:
    match message:
        case Unlock(board, lock):
            return bytes(LockFrame.build({"body": {"value": {
                "board": board, "lock": lock, "state": RELEASE}}}))
        case Released(board, lock, released):
            return bytes(LockFrame.build({"body": {"value": {
                "board": board, "lock": lock,
                "state": RELEASED if released else NOT_RELEASED}}}))
        case Query(board, sensors):
            return bytes(QueryFrame.build({"body": {"value": {
                "board": board, "query": sensors}}}))
        case Bitmap(board, sensors, bits):
            return bytes(BitmapFrame.build({"body": {"value": {
                "board": board, "bits": bits, "query": sensors}}}))
    raise TypeError(f"not an 8A/80 message: {message!r}")


def parse_8a80_request(data: bytes) -> Unlock | Query:
    """What a board was asked (the peer's side)."""
    if data[:1] == b"\x8a":
        f = _parse(LockFrame, data)
        if f.state != RELEASE:
            raise FrameError(f"an unlock must carry 11: {data.hex(' ')}")
        return Unlock(int(f.board), int(f.lock))
    f = _parse(QueryFrame, data)
    return Query(int(f.board), _sensors(f.query, data))


@overload
def parse_8a80_reply(data: bytes, request: Unlock) -> Released: ...
@overload
def parse_8a80_reply(data: bytes, request: Query) -> Bitmap: ...
def parse_8a80_reply(data: bytes, request: Unlock | Query) -> Released | Bitmap:
    """The board's answer to `request`, checked against it."""
    if isinstance(request, Unlock):
        f = _parse(LockFrame, data)
        board, lock, state = int(f.board), int(f.lock), int(f.state)
        _check(request.board, board, "board")
        _check(request.lock, lock, "lock")
        if state not in (RELEASED, NOT_RELEASED):
            raise FrameError(f"unknown lock state {state:02X}")
        return Released(board, lock, state == RELEASED)
    f = _parse(BitmapFrame, data)
    board = int(f.board)
    _check(request.board, board, "board")
    sensors = _sensors(f.query, data)
    if sensors is not request.sensors:
        raise FrameError(f"the {sensors.name.lower()} bitmap to a query of the "
                         f"{request.sensors.name.lower()}")
    return Bitmap(board, sensors, int(f.bits))


def _sensors(value: int, data: bytes) -> Sensors:
    try:
        return Sensors(value)
    except ValueError:
        raise FrameError(f"unknown query: {data.hex(' ')}") from None


# ---------------------------------------------------------------- Kerong
def build_kerong(message: Unlock | AskStatus | BoardData) -> bytes:
    match message:
        case Unlock(board, lock):
            return bytes(KerongRequestFrame.build({"body": {"value": {
                "address": board, "command": UNLOCK, "lock": lock}}}))
        case AskStatus(board):
            return bytes(KerongRequestFrame.build({"body": {"value": {
                "address": board, "command": STATUS, "lock": None}}}))
        case BoardData(board, doors, items):
            return bytes(KerongDataFrame.build({"body": {"value": {
                "address": board, "doors": doors, "items": items}}}))
    raise TypeError(f"not a Kerong message: {message!r}")


def parse_kerong_request(data: bytes) -> Unlock | AskStatus:
    f = _parse(KerongRequestFrame, data)
    board = int(f.address)
    if f.command == STATUS:
        return AskStatus(board)
    if f.command == UNLOCK:
        return Unlock(board, int(f.lock))
    raise FrameError(f"unknown command: {data.hex(' ')}")


def parse_kerong_reply(data: bytes, request: Unlock | AskStatus) -> BoardData:
    f = _parse(KerongDataFrame, data)
    board = int(f.address)
    _check(request.board, board, "board")
    return BoardData(board, int(f.doors), int(f["items"]))  # `items` is also a dict method
