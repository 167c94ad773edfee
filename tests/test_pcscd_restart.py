"""pcscd stopped and started again under a running reader (what a technician's restart, a
package upgrade or a crashed daemon does; with vpcd it is also how its readers are unplugged
and plugged back): the production PC/SC adapter, behind its worker, turns offline while pcscd
is gone and reads again once it is back, without the kiosk being restarted."""

from __future__ import annotations

import pytest

from devices.id_reader.pcsc.cards.bank import VirtualBankCard
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import IdReader, ReadFailure, ReadResult
from devices.status import DeviceState, LinkReason
from devices.worker import DeviceWorker
from kiosk.demo.pcscd import pcscd, running, seen_empty
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
READER = "Virtual PCD 00 00"


def read(worker: DeviceWorker[IdReader]) -> ReadResult:
    return worker.call(lambda r: r.read(), ReadResult(failure=ReadFailure.DEVICE_FAULT)).value


def read_card(worker: DeviceWorker[IdReader], reader: PcscReader) -> ReadResult:
    wait_until(lambda: seen_empty(READER), 10, "an empty reader")
    assert read(worker).failure is ReadFailure.NO_CARD  # armed
    card = VirtualBankCard("6222021234567890123", "3012", "ZHANG/SAN")
    card.insert()
    try:
        wait_until(reader.card_present, 10, "the card in the reader")
        return read(worker)
    finally:
        card.remove()


def test_pcscd_restarted_under_the_kiosk_is_recovered_without_a_restart() -> None:
    assert not running(), "this test restarts pcscd: no other pcscd may run"
    reader = PcscReader(READER)
    worker: DeviceWorker[IdReader] = DeviceWorker("id_reader.2", "id_reader", reader,
                                                  call_timeout_s=5)
    worker.start()
    try:
        with pcscd():
            assert worker.refresh().status.state is DeviceState.READY
            assert read_card(worker, reader).identity is not None
        # pcscd is gone: the reader is offline with the reason, and a read is a device fault.
        gone = worker.refresh().status
        assert (gone.state, gone.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
        assert "pcscd" in gone.message
        assert read(worker).failure is ReadFailure.DEVICE_FAULT
        with pcscd():  # back: the same reader object reads again
            wait_until(lambda: worker.refresh().status.state is DeviceState.READY, 15,
                       "the reader back after pcscd's restart")
            result = read_card(worker, reader)
            assert result.identity is not None and result.identity.id_number.endswith("0123")
    finally:
        worker.stop()
