"""Property-based tests of the smart-card parsers: BER-TLV, APDU exchanges and EMV records
with random and corrupted input are refused with a clear error, never a crash."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from devices.id_reader.pcsc import emv, tlv
from devices.id_reader.pcsc.apdu import CardError, exchange
from devices.id_reader.pcsc.cards.bank import VirtualBankCard


@given(st.binary(max_size=600))
def test_random_bytes_are_tlvs_or_a_tlv_error(data: bytes) -> None:
    with contextlib.suppress(tlv.TLVError):
        for item in tlv.walk(data):
            assert isinstance(item.value, bytes)


@given(st.integers(min_value=1, max_value=0x1F7F), st.binary(max_size=400))
def test_a_built_tlv_parses_back(tag: int, value: bytes) -> None:
    if tag & 0x1F == 0x1F and tag < 0x100:  # a one-byte tag that says "more bytes follow"
        return
    if tag >= 0x100 and ((tag >> 8) & 0x1F != 0x1F or tag & 0x80):
        return  # not a well-formed two-byte tag
    assert tlv.parse(tlv.build(tag, value)) == [tlv.TLV(tag, value)]


def card_transmit(card: VirtualBankCard):  # type: ignore[no-untyped-def]
    def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
        answer = card.respond(bytes(apdu))
        return list(answer[:-2]), answer[-2], answer[-1]
    return transmit


@given(st.sampled_from([False, True]))
def test_the_virtual_card_is_read_directly_as_through_pcscd(t0: bool) -> None:
    card = VirtualBankCard("6222021234567890123", "3012", "LI/SI", t0=t0)
    read = emv.read_bank_card(card_transmit(card))
    assert (read.pan, read.expiry, read.name) == ("6222021234567890123", "20301231", "LI/SI")


@given(st.binary(min_size=2, max_size=300))
def test_a_card_answering_garbage_is_refused_clearly(answer: bytes) -> None:
    def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
        return list(answer[:-2]), answer[-2], answer[-1]

    with contextlib.suppress(emv.NotABankCard, tlv.TLVError, CardError):
        emv.read_bank_card(transmit)


def test_a_card_that_answers_61xx_for_ever_is_a_card_error() -> None:
    def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
        return [0x00], 0x61, 0x01

    try:
        exchange(transmit, [0x00, 0xA4, 0x04, 0x00])
    except CardError:
        return
    raise AssertionError("accepted")
