"""Property-based tests of the SAM frame and text parsers: random and corrupted input is
refused with a clear error, never a crash, and what is built parses back the same."""

from __future__ import annotations

import contextlib
import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.id_reader.protocol import DocumentKind, Identity
from devices.id_reader.sam import frames, text
from devices.id_reader.sam.frames import FrameError
from devices.id_reader.simulator import DEMO_CITIZENS

GOOD_READ = frames.build_reply(
    frames.Sw3.OK, frames.build_text_and_photo(text.encode(dataclasses.replace(
        DEMO_CITIZENS[0], ethnic_group="汉", nationality="CHN")), bytes(1024)))


@given(st.binary(max_size=2000))
def test_random_bytes_are_a_frame_error_or_a_reply(data: bytes) -> None:
    with contextlib.suppress(FrameError):  # anything else (a crash) fails the test
        frames.parse_reply(data)


@given(st.integers(min_value=0, max_value=len(GOOD_READ) - 1), st.integers(1, 255))
def test_any_corrupted_byte_of_a_reply_is_refused(position: int, flip: int) -> None:
    bad = bytearray(GOOD_READ)
    bad[position] ^= flip
    try:
        frames.parse_reply(bytes(bad))
    except FrameError:
        return
    raise AssertionError(f"byte {position} corrupted with {flip:#x} was accepted")


@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=300))
def test_requests_and_replies_parse_back_as_built(cmd: int, param: int, data: bytes) -> None:
    assert frames.parse_request(frames.build_request((cmd, param), data)) == frames.Request(
        cmd, param, data)
    assert frames.parse_reply(frames.build_reply(param, data)) == frames.Reply(param, data)


@settings(max_examples=300)
@given(st.binary(min_size=256, max_size=256))
def test_random_text_blocks_are_refused_or_decoded(block: bytes) -> None:
    try:
        identity = text.decode(block)
    except text.TextError:
        return
    assert identity.id_number and identity.name and len(identity.birth_date) == 8


names = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
                min_size=1, max_size=15)
dates = st.dates().map(lambda d: d.strftime("%Y%m%d")).filter(lambda s: len(s) == 8)


@given(names, st.sampled_from(["男", "女"]), dates,
       st.sampled_from(sorted(text.ETHNIC_GROUPS.values())))
def test_resident_id_text_round_trips(name: str, sex: str, birth: str, ethnic: str) -> None:
    person = Identity(DocumentKind.RESIDENT_ID, "11010519491231002X", name, sex, birth,
                      "北京市东城区", "长期", ethnic_group=ethnic, nationality="CHN",
                      issuer="北京市公安局东城分局", valid_from="20100101")
    assert text.decode(text.encode(person)) == person


def test_wrong_lengths_in_a_read_reply_are_refused() -> None:
    body = frames.build_text_and_photo(bytes(256), bytes(1024))
    for broken in (body[:-1], body + b"x", b"\x00\xff" + body[2:]):
        try:
            frames.parse_text_and_photo(broken)
        except FrameError:
            continue
        raise AssertionError("accepted")
