"""The identify step watches every fitted identity source at once: the first document
presented wins, the others are told to stop, and one reader down does not stop the others."""

from __future__ import annotations

from devices.id_reader.fake import FakeIdReader
from devices.status import DeviceStatus
from kiosk.session import State
from tests.flows import to_identify_household_proof


def two_readers(rig):  # type: ignore[no-untyped-def]
    sam, pcsc = FakeIdReader(), FakeIdReader()
    rig.refit("id_reader", [sam, pcsc])
    rig.reader = sam
    return to_identify_household_proof(rig), sam, pcsc


def test_document_on_the_second_reader_wins_and_the_first_is_told_to_stop(rig, citizen):  # type: ignore[no-untyped-def]
    s, sam, pcsc = two_readers(rig)
    rig.tick()
    assert (sam.reads, pcsc.reads) == (1, 1)  # both asked in the same round
    pcsc.present(citizen)
    rig.tick()
    assert s.state is State.VERIFY and s.view().masked_name == "张*"
    rig.health.refresh()  # the stop was handed to the first reader's worker: let it run
    assert (sam.stops, pcsc.stops) == (1, 0)
    assert any(e["event"] == "identity_read" for e in rig.audit.recent)


def test_one_reader_down_is_not_a_device_fault_while_another_works(rig, citizen):  # type: ignore[no-untyped-def]
    s, sam, pcsc = two_readers(rig)
    pcsc.set_status(DeviceStatus.offline())
    rig.tick()
    rig.tick()
    assert s.state is State.IDENTIFY and s.view().notice is None  # SAM still waits for a card
    sam.present(citizen)
    rig.tick()
    assert s.state is State.VERIFY


def test_every_reader_down_says_so(rig):  # type: ignore[no-untyped-def]
    s, sam, pcsc = two_readers(rig)
    sam.set_status(DeviceStatus.offline())
    pcsc.set_status(DeviceStatus.offline())
    s.tick()  # no status refresh: the service is still on screen when the readers fail
    assert s.view().notice.key == "id_device_fault"


def test_a_pulled_card_on_one_reader_beats_no_card_on_the_other(rig):  # type: ignore[no-untyped-def]
    from devices.id_reader.protocol import ReadFailure

    s, _sam, pcsc = two_readers(rig)
    pcsc.fail_next(ReadFailure.CARD_PULLED)
    rig.tick()
    assert s.view().notice.key == "id_card_pulled"
