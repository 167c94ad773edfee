"""A bank branch watches its SAM reader and its PC/SC reader at once, both real adapters on
their wire peers (a pty, pcscd with a virtual card): whichever document comes first is read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.camera.protocol import FaceOutcome
from devices.id_reader.pcsc.cards.bank import VirtualBankCard
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import DocumentKind
from devices.id_reader.sam.peer import SamCard, SamReaderPeer
from devices.id_reader.sam.reader import ResidentIdSamReader
from devices.links import SerialLink
from kiosk.demo.pcscd import pcscd, seen_empty
from kiosk.session import State
from tests.flows import to_identify_household_proof
from tests.test_sam_reader import ZHANG
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
PCSC_READER = "Virtual PCD 00 00"


@pytest.fixture
def readers(rig) -> Iterator[tuple[SamReaderPeer, PcscReader]]:  # type: ignore[no-untyped-def]
    with pcscd():
        wait_until(lambda: seen_empty(PCSC_READER), 10, "an empty PC/SC reader")
        sam = SamReaderPeer()
        pcsc = PcscReader(PCSC_READER)
        rig.refit("id_reader", [ResidentIdSamReader(SerialLink(sam.port, baudrate=115200),
                                                    reply_timeout_s=0.5), pcsc])
        try:
            yield sam, pcsc
        finally:
            sam.close()


def to_identify(rig) -> None:  # type: ignore[no-untyped-def]
    to_identify_household_proof(rig)
    rig.tick()  # both readers seen empty: armed


def test_a_bank_card_on_the_pcsc_reader_is_read_while_the_sam_reader_waits(rig, readers) -> None:  # type: ignore[no-untyped-def]
    _sam, pcsc = readers
    to_identify(rig)
    card = VirtualBankCard("6222021234567890123", "3012", "ZHANG/SAN")
    card.insert()
    try:
        wait_until(pcsc.card_present, 10, "the bank card in the PC/SC reader")
        rig.camera.show_face(FaceOutcome.CAPTURED)
        rig.tick()
        s = rig.session
        assert s.state is State.VERIFY and s.identity is not None
        assert s.identity.kind is DocumentKind.BANK_CARD and s.identity.source == "id_reader.2"
        assert s.view().masked_id == "622202*********0123"  # the PAN is never shown whole
    finally:
        card.remove()


def test_the_id_card_on_the_sam_reader_wins_when_it_comes_first(rig, readers) -> None:  # type: ignore[no-untyped-def]
    sam, _pcsc = readers
    to_identify(rig)
    sam.insert(SamCard.of(ZHANG))
    rig.tick()
    s = rig.session
    assert s.state is State.VERIFY and s.identity is not None
    assert s.identity.kind is DocumentKind.RESIDENT_ID and s.identity.source == "id_reader.1"
