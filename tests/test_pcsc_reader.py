"""PC/SC bank cards through the real pcscd and pyscard, the production adapter (`pcsc`)
reading virtual cards in vpcd's reader: T=1 and T=0 cards, a card pulled mid-read, a card
that is no bank card, garbage and silence (pcscd restarted: test_pcscd_restart.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from devices.id_reader.pcsc.cards.bank import VirtualBankCard
from devices.id_reader.pcsc.cards.vpcd import VPCD_PORTS, VirtualCard
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import DocumentKind, ReadFailure, ReadResult
from devices.status import DeviceState, LinkReason
from kiosk.demo.pcscd import pcscd, seen_empty
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
READER, READER_2 = "Virtual PCD 00 00", "Virtual PCD 00 01"
PAN = "6222021234567890123"


@pytest.fixture(scope="module")
def pcsc_daemon() -> Iterator[None]:
    with pcscd():
        yield


@pytest.fixture
def reader(pcsc_daemon: None) -> PcscReader:
    # The last test's card is gone for pcscd too (it polls the virtual reader): a card put in
    # before that would be taken for the old one, still there.
    wait_until(lambda: seen_empty(READER), 10, "an empty reader")
    r = PcscReader(READER)
    assert r.read().failure is ReadFailure.NO_CARD  # an empty reader arms it
    return r


def read_when_there(reader: PcscReader, card: VirtualCard) -> ReadResult:
    """Insert, then read once pcscd has seen the card arrive (its polling takes a moment)."""
    card.insert()
    wait_until(reader.card_present, 10, "the card in the virtual reader")
    return reader.read()


def test_reads_a_t1_bank_card_pan_name_and_expiry(reader: PcscReader) -> None:
    card = VirtualBankCard(PAN, "3012", "ZHANG/SAN")
    try:
        result = read_when_there(reader, card)
        assert result.ok and result.identity is not None
        who = result.identity
        assert who.kind is DocumentKind.BANK_CARD and who.id_number == PAN
        assert who.valid_to == "20301231" and who.name == "ZHANG/SAN"
        assert reader.read().failure is ReadFailure.NO_CARD  # read once until taken away
    finally:
        card.remove()


def test_reads_a_t0_card_through_get_response(reader: PcscReader) -> None:
    card = VirtualBankCard(PAN, "2906", t0=True)
    try:
        result = read_when_there(reader, card)
        assert result.ok and result.identity is not None and result.identity.id_number == PAN
        assert any(apdu[1] == 0xC0 for apdu in card.apdus)  # 61xx was followed
        assert result.identity.valid_to == "20290630"
    finally:
        card.remove()


def test_card_pulled_mid_read_is_card_pulled(pcsc_daemon: None) -> None:
    # In vpcd's second reader: after a card that vanished mid-command, vpcd takes a moment
    # before it sees the next card in the same reader (a quirk of the virtual driver).
    second = PcscReader(READER_2)
    wait_until(lambda: second.read().failure is ReadFailure.NO_CARD, 10, "an empty reader")
    card = VirtualBankCard(PAN, "3012")
    card.pull_after_apdus = 2
    try:
        card.insert(VPCD_PORTS[1])
        wait_until(second.card_present, 10, "the card in the second virtual reader")
        assert second.read().failure is ReadFailure.CARD_PULLED
    finally:
        card.remove()


class NotABankCard(VirtualCard):
    def respond(self, apdu: bytes) -> bytes:
        return b"\x6a\x82"  # file not found, whatever is asked


def test_a_card_that_is_no_bank_card_is_the_wrong_card(reader: PcscReader) -> None:
    card = NotABankCard()
    try:
        assert read_when_there(reader, card).failure is ReadFailure.WRONG_CARD
    finally:
        card.remove()


def test_a_reader_that_is_not_there_is_not_connected(pcsc_daemon: None) -> None:
    status = PcscReader("ACS ACR1281 that was unplugged").status()
    assert status.state is DeviceState.OFFLINE and status.reason == LinkReason.NOT_CONNECTED
    assert "Virtual PCD 00 00" in status.message  # says what pcscd does have


class GarbageCard(VirtualCard):
    """Says "OK" to everything, with bytes that are no TLV at all."""

    def respond(self, apdu: bytes) -> bytes:
        return b"\x6f\x81" + b"\x90\x00"  # a length byte that promises more than is there


def test_a_card_answering_garbage_is_unreadable_not_a_crash(reader: PcscReader) -> None:
    card = GarbageCard()
    try:
        assert read_when_there(reader, card).failure is ReadFailure.UNREADABLE
    finally:
        card.remove()


class SilentCard(VirtualCard):
    """Powers up, then never answers a command, until it is taken away."""

    def __init__(self) -> None:
        super().__init__()
        self.gone = threading.Event()

    def respond(self, apdu: bytes) -> bytes:
        self.gone.wait(30)
        return b"\x90\x00"

    def remove(self) -> None:
        self.gone.set()
        super().remove()


def test_a_card_that_never_answers_is_cut_off_by_the_workers_deadline(reader: PcscReader) -> None:
    from devices.worker import CallProblem, DeviceWorker

    card = SilentCard()
    worker = DeviceWorker("id_reader", "id_reader", reader, call_timeout_s=1.0)
    try:
        card.insert()
        wait_until(reader.card_present, 10, "the card in the virtual reader")
        started = time.monotonic()
        called = worker.call(lambda r: r.read(), None)
        assert called.problem is CallProblem.TIMEOUT and time.monotonic() - started < 3
        assert worker.report().status.reason == LinkReason.NOT_ANSWERING
    finally:
        card.remove()
        worker.stop(timeout_s=0.1)
