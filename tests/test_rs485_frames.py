"""The lock boards' frames: what is built parses back to itself, the bytes FIELD_NOTES gives
come out exactly, and a frame damaged anywhere is refused, never read as something else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.locker.rs485 import frames
from devices.locker.rs485.frames import (
    AskStatus,
    Bitmap,
    BoardData,
    FrameError,
    Query,
    Released,
    Sensors,
    Unlock,
)

boards = st.integers(0, 255)
locks = st.integers(1, frames.LOCKS_PER_BOARD)
bits = st.integers(0, frames.MAX_BITS)
sensors = st.sampled_from(Sensors)

requests_8a80 = st.one_of(st.builds(Unlock, boards, locks), st.builds(Query, boards, sensors))
replies_8a80 = st.one_of(st.builds(Released, boards, locks, st.booleans()),
                         st.builds(Bitmap, boards, sensors, bits))
requests_kerong = st.one_of(st.builds(Unlock, boards, locks), st.builds(AskStatus, boards))
# A Kerong board answers a status request and an unlock with the same data frame.
replies_kerong = st.builds(BoardData, boards, bits, bits)


def asked_8a80(reply: Released | Bitmap) -> Unlock | Query:
    if isinstance(reply, Released):
        return Unlock(reply.board, reply.lock)
    return Query(reply.board, reply.sensors)


def parse_8a80_reply(raw: bytes, reply: Any) -> Any:
    return frames.parse_8a80_reply(raw, asked_8a80(reply))


def parse_kerong_reply(raw: bytes, reply: Any) -> Any:
    return frames.parse_kerong_reply(raw, AskStatus(reply.board))


# (build, parse of what was built, given what was built), for every kind of frame
CODECS: dict[str, tuple[Any, Callable[..., Any], Callable[[bytes, Any], Any]]] = {
    "8a80 request": (requests_8a80, frames.build_8a80,
                     lambda raw, _: frames.parse_8a80_request(raw)),
    "8a80 reply": (replies_8a80, frames.build_8a80, parse_8a80_reply),
    "kerong request": (requests_kerong, frames.build_kerong,
                       lambda raw, _: frames.parse_kerong_request(raw)),
    "kerong reply": (replies_kerong, frames.build_kerong, parse_kerong_reply),
}


@pytest.mark.parametrize("codec", CODECS)
@given(data=st.data())
def test_what_is_built_parses_back_to_itself(codec: str, data: st.DataObject) -> None:
    messages, build, parse = CODECS[codec]
    message = data.draw(messages)
    assert parse(build(message), message) == message


@pytest.mark.parametrize("codec", CODECS)
@given(data=st.data())
def test_a_corrupted_byte_is_refused_or_parsed_to_the_same_value(
    codec: str, data: st.DataObject,
) -> None:
    messages, build, parse = CODECS[codec]
    message = data.draw(messages)
    raw = build(message)
    at = data.draw(st.integers(0, len(raw) - 1))
    damaged = bytearray(raw)
    damaged[at] ^= data.draw(st.integers(1, 255))
    try:
        parsed = parse(bytes(damaged), message)
    except FrameError:
        return
    assert parsed == message


@pytest.mark.parametrize("codec", CODECS)
@given(data=st.data())
def test_a_frame_cut_short_or_run_on_is_refused(codec: str, data: st.DataObject) -> None:
    messages, build, parse = CODECS[codec]
    message = data.draw(messages)
    raw = build(message)
    cut = raw[:data.draw(st.integers(0, len(raw) - 1))]
    run_on = raw + data.draw(st.binary(min_size=1, max_size=4))
    for wrong in (cut, run_on):
        with pytest.raises(FrameError):
            parse(wrong, message)


def test_the_8a80_frames_of_field_notes_are_built_exactly() -> None:
    assert frames.build_8a80(Unlock(1, 1)) == bytes.fromhex("8A 01 01 11 9B")
    assert frames.build_8a80(Query(1, Sensors.DOORS)) == bytes.fromhex("80 01 00 33 B2")
    assert frames.parse_8a80_request(bytes.fromhex("8A 01 01 11 9B")) == Unlock(1, 1)


def test_lock_1_is_bit_0_of_the_first_bitmap_byte() -> None:
    assert frames.build_8a80(Bitmap(1, Sensors.DOORS, 0b1)) == bytes.fromhex(
        "80 01 01 00 00 33 B3")
    assert frames.build_8a80(Bitmap(1, Sensors.ITEMS, 1 << 23)) == bytes.fromhex(
        "80 01 00 00 80 34 35")


def test_kerong_frames_sum_every_byte_from_stx_to_etx() -> None:
    assert frames.build_kerong(AskStatus(0)) == bytes.fromhex("02 00 30 03 35")
    assert frames.build_kerong(Unlock(0, 1)) == bytes.fromhex("02 00 31 01 03 37")
    assert frames.build_kerong(BoardData(0, 0b101, 0xFFFFFF)) == bytes.fromhex(
        "02 00 35 05 00 00 FF FF FF 03 3C")


def test_a_reply_from_another_board_is_refused() -> None:
    with pytest.raises(FrameError, match="board 2 to a request about board 1"):
        frames.parse_8a80_reply(frames.build_8a80(Bitmap(2, Sensors.DOORS, 0)),
                                Query(1, Sensors.DOORS))
    with pytest.raises(FrameError, match="board 2"):
        frames.parse_kerong_reply(frames.build_kerong(BoardData(2, 0, 0)), AskStatus(1))


def test_a_reply_about_another_lock_or_query_is_refused() -> None:
    with pytest.raises(FrameError, match="lock 4 to a request about lock 3"):
        frames.parse_8a80_reply(frames.build_8a80(Released(1, 4, True)), Unlock(1, 3))
    with pytest.raises(FrameError, match="items bitmap to a query of the doors"):
        frames.parse_8a80_reply(frames.build_8a80(Bitmap(1, Sensors.ITEMS, 0)),
                                Query(1, Sensors.DOORS))
    with pytest.raises(FrameError):  # an echo where a bitmap was asked for
        frames.parse_8a80_reply(frames.build_8a80(Released(1, 1, True)),
                                Query(1, Sensors.DOORS))


def test_unknown_commands_and_states_are_refused() -> None:
    with pytest.raises(FrameError, match="unknown command"):
        frames.parse_kerong_request(bytes.fromhex("02 00 32 03 37"))
    with pytest.raises(FrameError, match="unknown query"):
        frames.parse_8a80_request(bytes.fromhex("80 01 00 35 B4"))
    with pytest.raises(FrameError, match="unknown lock state"):
        frames.parse_8a80_reply(bytes.fromhex("8A 01 01 22 A8"), Unlock(1, 1))
    with pytest.raises(FrameError, match="must carry 11"):
        frames.parse_8a80_request(bytes.fromhex("8A 01 01 00 8A"))
