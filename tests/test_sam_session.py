"""A citizen's session with the real SAM adapter and its wire peer on a pty: the identify step
reacts to the card by itself, and every trouble has a defined state and words."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from devices.camera.protocol import FaceOutcome
from devices.id_reader.sam.peer import SamCard, SamReaderPeer
from devices.id_reader.sam.reader import ResidentIdSamReader
from devices.links import SerialLink
from kiosk.session import State
from tests.flows import to_identify_household_proof
from tests.test_sam_reader import ZHANG

pytestmark = pytest.mark.realstack


@pytest.fixture
def sam(rig) -> Iterator[SamReaderPeer]:  # type: ignore[no-untyped-def]
    peer = SamReaderPeer()
    rig.refit("id_reader", ResidentIdSamReader(SerialLink(peer.port, baudrate=115200),
                                               reply_timeout_s=0.5, read_timeout_s=1.0))
    yield peer
    peer.close()


def test_card_presented_on_the_sam_reader_is_read_without_a_tap(rig, sam) -> None:  # type: ignore[no-untyped-def]
    to_identify_household_proof(rig)
    rig.tick()  # an empty reader: waiting
    sam.insert(SamCard.of(ZHANG))
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    rig.tick()
    s = rig.session
    assert s.state is State.CONFIRM and s.view().masked_id == "310115********0024"
    assert s.identity is not None and s.identity.source == "id_reader"


def test_card_pulled_during_read_says_so_and_reads_it_when_placed_again(rig, sam) -> None:  # type: ignore[no-untyped-def]
    to_identify_household_proof(rig)
    rig.tick()
    sam.insert(SamCard.of(ZHANG))
    sam.pull_on_next_read = True
    rig.tick()
    s = rig.session
    assert s.state is State.IDENTIFY and s.view().notice.key == "id_card_pulled"
    sam.insert(SamCard.of(ZHANG))
    rig.tick()
    assert s.state is State.VERIFY


def test_expired_card_is_refused_with_its_reason(rig, sam) -> None:  # type: ignore[no-untyped-def]
    to_identify_household_proof(rig)
    rig.tick()
    sam.insert(SamCard.of(dataclasses.replace(ZHANG, valid_to="20200101")))
    rig.tick()
    s = rig.session
    assert s.state is State.IDENTIFY and s.view().notice.key == "id_expired"
    assert s.identity is None
    assert any(e["event"] == "identity_read_failed" and e["failure"] == "expired"
               for e in rig.audit.recent)


def test_a_card_left_behind_is_called_out_and_never_read_for_the_next_citizen(rig, sam) -> None:  # type: ignore[no-untyped-def]
    to_identify_household_proof(rig)
    rig.tick()
    sam.insert(SamCard.of(ZHANG))
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    rig.tick()
    s = rig.session
    s.back()
    s.back()
    s.back()  # confirm -> choose -> home -> goodbye, the card still on the reader
    assert s.state is State.GOODBYE and s.view().card_left
    rig.tick(10)  # the call-out stays while the card is there
    assert s.state is State.GOODBYE and s.view().card_left
    rig.tick(s.d.timings.card_left_alert_s)  # past the limit: staff are told, once
    rig.tick()
    assert s.state is State.ATTRACT
    assert [kind for kind, _, _ in rig.sink.envelopes].count("staff.card_left") == 1
    to_identify_household_proof(rig)
    for _ in range(3):
        rig.tick()
    assert s.state is State.IDENTIFY and s.identity is None  # the forgotten card is not read
