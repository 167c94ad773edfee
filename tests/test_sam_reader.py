"""The resident ID SAM reader (`sam_serial`), the production adapter, against its wire peer on
a real pty: every card kind, and every trouble a citizen or the hardware can cause."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from devices.id_reader.protocol import DocumentKind, Identity, ReadFailure
from devices.id_reader.sam import frames
from devices.id_reader.sam.peer import SamCard, SamReaderPeer
from devices.id_reader.sam.reader import ResidentIdSamReader
from devices.id_reader.simulator import DEMO_CITIZENS
from devices.links import SerialLink
from devices.status import DeviceState, LinkReason
from devices.worker import DeviceWorker

pytestmark = pytest.mark.realstack

ZHANG = dataclasses.replace(DEMO_CITIZENS[0], ethnic_group="汉", nationality="CHN",
                            issuer="上海市公安局浦东分局", valid_from="20200101")
CHAN = Identity(DocumentKind.HMT_RESIDENCE_PERMIT, "810000199001010035", "陈大文", "男",
                "19900101", "广东省深圳市福田区福华路1号", "20290101", nationality="CHN",
                issuer="深圳市公安局", valid_from="20240101")
SMITH = Identity(DocumentKind.FOREIGN_PERMANENT_RESIDENCE, "USA310085090101", "SMITH, JOHN",
                 "男", "19850101", "", "20330101", name_latin="SMITH, JOHN",
                 nationality="USA", issuer="1500", valid_from="20230101")


@pytest.fixture
def peer() -> Iterator[SamReaderPeer]:
    p = SamReaderPeer()
    yield p
    p.close()


@pytest.fixture
def reader(peer: SamReaderPeer) -> ResidentIdSamReader:
    r = ResidentIdSamReader(SerialLink(peer.port, baudrate=115200), reply_timeout_s=0.5,
                            read_timeout_s=1.0)
    assert r.read().failure is ReadFailure.NO_CARD  # an empty reader arms it
    return r


def without_photo(identity: Identity | None) -> Identity | None:
    return dataclasses.replace(identity, photo=None) if identity else None


@pytest.mark.parametrize("person", [ZHANG, CHAN, SMITH], ids=lambda p: p.kind.value)
def test_each_card_kind_is_read_with_its_fields(peer, reader, person) -> None:  # type: ignore[no-untyped-def]
    peer.insert(SamCard.of(person))
    result = reader.read()
    assert result.ok and without_photo(result.identity) == person
    assert result.identity is not None and result.identity.photo is not None
    assert result.identity.photo.format == "wlt" and len(result.identity.photo.data) == 1024
    assert peer.requests == [frames.FIND_CARD, frames.FIND_CARD, frames.SELECT_CARD,
                             frames.READ_TEXT_AND_PHOTO]


def test_a_card_is_read_once_until_it_is_taken_away_and_presented_again(peer, reader) -> None:  # type: ignore[no-untyped-def]
    peer.insert(SamCard.of(ZHANG))
    assert reader.read().ok
    assert reader.read().failure is ReadFailure.NO_CARD  # still there: not read again
    assert reader.card_present()
    peer.remove()
    assert reader.read().failure is ReadFailure.NO_CARD and not reader.card_present()
    peer.insert(SamCard.of(ZHANG))
    assert reader.read().ok


def test_a_card_forgotten_before_the_kiosk_started_is_not_read(peer) -> None:  # type: ignore[no-untyped-def]
    peer.insert(SamCard.of(ZHANG))
    fresh = ResidentIdSamReader(SerialLink(peer.port, baudrate=115200), reply_timeout_s=0.5)
    assert fresh.read().failure is ReadFailure.NO_CARD
    assert frames.READ_TEXT_AND_PHOTO not in peer.requests


def test_card_pulled_mid_read_is_card_pulled(peer, reader) -> None:  # type: ignore[no-untyped-def]
    peer.insert(SamCard.of(ZHANG))
    peer.pull_on_next_read = True
    assert reader.read().failure is ReadFailure.CARD_PULLED
    peer.insert(SamCard.of(ZHANG))  # placed again: read this time
    assert reader.read().ok


def test_one_corrupt_reply_is_asked_again_and_two_are_refused(peer, reader) -> None:  # type: ignore[no-untyped-def]
    peer.insert(SamCard.of(ZHANG))
    peer.corrupt_replies = 1
    assert reader.read().ok
    peer.remove()
    reader.read()
    peer.insert(SamCard.of(ZHANG))
    peer.corrupt_replies = 2
    assert reader.read().failure is ReadFailure.UNREADABLE


def test_silent_reader_is_offline_within_the_workers_deadline(peer, reader) -> None:  # type: ignore[no-untyped-def]
    worker = DeviceWorker("id_reader", "id_reader", reader, call_timeout_s=2.0)
    try:
        assert worker.refresh().status.state is DeviceState.READY
        peer.silent.set()
        started = time.monotonic()
        status = worker.refresh().status
        assert status.state is DeviceState.OFFLINE and status.reason == LinkReason.NOT_ANSWERING
        assert time.monotonic() - started < 2.0
        assert worker.call(lambda r: r.read(), None).value.failure is ReadFailure.DEVICE_FAULT
        peer.silent.clear()
        assert worker.refresh().status.state is DeviceState.READY
    finally:
        worker.stop()


def test_broken_sam_module_is_a_fault_and_a_device_fault_read(peer, reader) -> None:  # type: ignore[no-untyped-def]
    peer.sam_broken = True
    status = reader.status()
    assert status.state is DeviceState.FAULT and status.reason == "sam_fault"
    peer.insert(SamCard.of(ZHANG))
    assert reader.read().failure is ReadFailure.DEVICE_FAULT


def test_an_unplugged_reader_is_not_connected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gone = ResidentIdSamReader(SerialLink(str(tmp_path / "ttyUSB0")))
    status = gone.status()
    assert status.state is DeviceState.OFFLINE and status.reason == LinkReason.NOT_CONNECTED
    assert gone.read().failure is ReadFailure.DEVICE_FAULT


def test_self_test_names_the_sam_module(peer, reader) -> None:  # type: ignore[no-untyped-def]
    assert reader.self_test().message == f"SAM id {peer.sam_id.hex()}"
