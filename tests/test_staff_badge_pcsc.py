"""A staff badge read through the production PC/SC adapter, under pcscd with a virtual card:
its UID (PC/SC GET DATA); a bank card or no card gives none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.id_reader.pcsc.cards.badge import VirtualStaffBadge
from devices.id_reader.pcsc.cards.bank import VirtualBankCard
from devices.id_reader.pcsc.reader import PcscReader
from kiosk.demo.pcscd import pcscd, seen_empty
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
READER = "Virtual PCD 00 00"
UID = bytes.fromhex("04A1B2C3D4E5F6")


@pytest.fixture
def reader() -> Iterator[PcscReader]:
    with pcscd():
        wait_until(lambda: seen_empty(READER), 10, "an empty reader")
        yield PcscReader(READER, ("passport",))


def test_a_badge_gives_its_uid_and_nothing_else_does(reader: PcscReader) -> None:
    assert reader.read_badge() is None  # no card
    badge = VirtualStaffBadge(UID)
    badge.insert()
    try:
        wait_until(reader.card_present, 10, "the badge on the reader")
        assert reader.read_badge() == UID
    finally:
        badge.remove()
    card = VirtualBankCard("6222021234567890123", "2912", "ZHANG/SAN")
    card.insert()
    try:
        wait_until(reader.card_present, 10, "the bank card on the reader")
        assert reader.read_badge() is None
    finally:
        card.remove()
