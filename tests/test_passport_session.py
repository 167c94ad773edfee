"""A passport in a session: the chip wants its data-page details, the identify screen asks for
them, the citizen types them and the passport is read (through pcscd and a virtual passport,
by the production PC/SC adapter); wrong details are refused by the chip and asked again;
details that cannot be right are marked before any chip is asked; the reader forgets them
when the session ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devices.camera.protocol import FaceOutcome
from devices.id_reader.pcsc.cards.passport import VirtualPassport, td3
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import DocumentKind, ReadFailure
from kiosk.demo.pcscd import pcscd, seen_empty
from kiosk.session import State
from tests.flows import to_identify_household_proof
from tests.waits import wait_until

READER = "Virtual PCD 00 00"
MRZ = td3("ERIKSSON", "ANNA MARIA", "L898902C", "UTO", "690806", "F", "340623")
FACE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"


@pytest.fixture
def passport_on_reader(rig: Any) -> Iterator[PcscReader]:
    with pcscd():
        wait_until(lambda: seen_empty(READER), 10, "an empty reader")
        reader = PcscReader(READER, ("passport",))
        rig.refit("id_reader", reader)
        to_identify_household_proof(rig)
        rig.tick()  # the reader seen empty: armed
        card = VirtualPassport(MRZ, FACE)
        card.insert()
        try:
            wait_until(reader.card_present, 10, "the passport on the reader")
            yield reader
        finally:
            card.remove()


@pytest.mark.realstack
def test_a_passport_asks_for_its_details_then_is_read_with_them(
        rig: Any, passport_on_reader: PcscReader) -> None:
    s = rig.session
    rig.tick()
    assert (s.state, s.notice.key) == (State.IDENTIFY, "id_access_key_needed")
    assert s.view().passport_details
    s.enter_passport_details(" l898902c ", "1969-08-06", "2034.06.23")  # as people type them
    assert not s.view().passport_details  # hidden while the chip is read
    rig.tick()
    assert s.state is State.VERIFY, s.notice
    assert s.identity is not None and s.identity.kind is DocumentKind.PASSPORT
    assert s.identity.id_number == "L898902C"
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    assert rig.faces.asked == [("L898902C", True)]  # its DG2 photo goes to the comparison


@pytest.mark.realstack
def test_details_the_chip_refuses_are_asked_again(rig: Any,
                                                  passport_on_reader: PcscReader) -> None:
    s = rig.session
    rig.tick()
    s.enter_passport_details("L898902C", "690806", "340624")  # expiry one day off
    rig.tick()
    assert (s.state, s.notice.key) == (State.IDENTIFY, "id_access_denied")
    assert s.view().passport_details


@pytest.mark.realstack
def test_the_reader_forgets_the_details_when_the_session_ends(
        rig: Any, passport_on_reader: PcscReader) -> None:
    s = rig.session
    rig.tick()
    s.enter_passport_details("L898902C", "690806", "340623")
    assert passport_on_reader._access_key is not None
    s.back()
    s.back()
    s.back()
    assert s.state is State.GOODBYE
    assert passport_on_reader._access_key is None


@pytest.mark.parametrize(("number", "birth", "expiry", "wrong"), [
    ("L8989/02C", "690806", "340623", "passport_number"),
    ("", "690806", "340623", "passport_number"),
    ("L898902C", "69-08", "340623", "birth_date"),
    ("L898902C", "690806", "June 2034", "expiry_date"),
    ("E0123456789", "690806", "340623", "passport_number"),  # longer than nine
])
def test_details_that_cannot_be_right_are_marked_before_the_chip_is_asked(
        rig: Any, number: str, birth: str, expiry: str, wrong: str) -> None:
    s = to_identify_household_proof(rig)
    rig.reader.fail_next(ReadFailure.ACCESS_KEY_NEEDED)
    rig.tick()
    s.enter_passport_details(number, birth, expiry)
    assert (s.notice.key, s.errors) == ("passport_details_invalid", {wrong: "invalid"})
    assert s.view().passport_details


def test_details_are_only_taken_on_the_identify_screen(rig: Any) -> None:
    s = rig.session
    s.touch()
    s.enter_passport_details("L898902C", "690806", "340623")
    assert s.state is State.HOME and s.notice is None
