"""A passport in a session: the chip wants its data-page details, the identify screen asks for
them, the citizen types them and the passport is read (through pcscd and a virtual passport,
by the production PC/SC adapter); wrong details are refused by the chip and asked again;
details that cannot be right are marked before any chip is asked; the reader is given them
for each read only, and the session forgets them when it ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from devices.camera.protocol import FaceOutcome
from devices.id_reader.fake import FakeIdReader
from devices.id_reader.pcsc.cards.passport import VirtualPassport, td3
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import DocumentKind, ReadFailure, ReadResult
from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.config.settings import Timings
from kiosk.demo.pcscd import pcscd, seen_empty
from kiosk.session import State
from kiosk.session.steps import ThreadedSteps
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
def test_the_details_are_held_for_the_read_only_and_wiped_when_the_session_ends(
        rig: Any, passport_on_reader: PcscReader) -> None:
    s = rig.session
    rig.tick()
    s.enter_passport_details("L898902C", "690806", "340624")  # refused: read again and again
    rig.tick()
    assert s.notice.key == "id_access_denied"
    assert passport_on_reader._access_key is None  # given for each read, then forgotten
    s.back()
    s.back()
    s.back()
    assert s.state is State.GOODBYE
    assert s.passport_key is None


class PassportReaderHeldUp(FakeIdReader):
    """A passport reader whose next read can be held (a slow chip on a busy pcscd): the chip
    opens only with the details it is given for that read."""

    def __init__(self) -> None:
        super().__init__()
        self.key: object = None
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.hold.set()

    def set_access_key(self, key: object) -> None:
        self.key = key

    def read(self) -> ReadResult:
        if not self.hold.is_set():
            self.holding.set()
            self.hold.wait(10)
        if self.key is None:
            return ReadResult(failure=ReadFailure.ACCESS_KEY_NEEDED)
        return ReadResult(identity=replace(DEMO_CITIZENS[0], kind=DocumentKind.PASSPORT,
                                           id_number="L898902C"))


def test_details_typed_while_a_read_without_them_is_slow_are_not_lost(rig: Any) -> None:
    """The details typed while a read without them is still on the reader's worker (longer
    than a device call may take) open the chip on the next read: the citizen is not asked
    again. (Given to the reader as a call of their own, they once waited behind that read,
    were given up on, and were never given.)"""
    reader = PassportReaderHeldUp()
    rig.refit("id_reader", reader)
    s = rig.session
    s.d.timings = Timings(device_call_timeout_s=0.3, idle_before_countdown_s=30, countdown_s=20)
    s.d.steps = ThreadedSteps()
    to_identify_household_proof(rig)
    rig.tick()
    wait_until(lambda: s.notice is not None and s.notice.key == "id_access_key_needed", 5,
               "the details asked for")
    reader.hold.clear()
    rig.tick()  # a read without the details, held on the reader
    assert reader.holding.wait(5)
    s.enter_passport_details("L898902C", "690806", "340623")
    time.sleep(0.5)  # longer than a device call may take
    reader.hold.set()
    for _ in range(20):
        rig.tick(0.1)
        if s.state is not State.IDENTIFY:
            break
        time.sleep(0.1)
    assert s.state is not State.IDENTIFY, s.notice
    assert s.identity is not None and s.identity.id_number == "L898902C"
    assert reader.key is None


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
