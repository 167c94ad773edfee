"""The ESC/POS receipt adapter on USB (`escpos_usb`): the production UsbLink and adapter over
pyusb, with a pyusb backend standing in for libusb (tests/usb_printer_backend.py) that carries
the bulk transfers to the real wire peer. What printed is what the peer decoded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.config import BuildContext
from devices.links import UsbLink
from devices.printer.escpos.config import EscposUsbConfig
from devices.printer.escpos.peer import EscposPeer
from devices.printer.escpos.printer import EscposPrinter
from devices.printer.protocol import PrintFailure
from devices.status import DeviceState, LinkReason
from tests.test_escpos_printer import RECEIPT, peer
from tests.usb_printer_backend import UsbPrinterBackend

pytestmark = pytest.mark.realstack

__all__ = ["peer"]  # the fixture


@pytest.fixture
def backend(peer: EscposPeer) -> Iterator[UsbPrinterBackend]:
    printer = UsbPrinterBackend(peer)
    yield printer
    printer.unplug()


def printer_on(backend: UsbPrinterBackend, model: str = "default") -> EscposPrinter:
    return EscposPrinter(UsbLink(0x04B8, 0x0202, backend=backend), model=model,
                         reply_timeout_s=0.3)


def test_a_receipt_prints_over_usb_in_chinese_with_its_qr_code(
        peer: EscposPeer, backend: UsbPrinterBackend) -> None:
    result = printer_on(backend).print_receipt(RECEIPT)
    assert result.ok, result.detail
    assert not backend.kernel_driver_bound  # usblp let go of the interface
    (printed,) = peer.receipts
    assert printed.cut and peer.unknown == []
    assert printed.text[0] == "办件回执" and printed.lines[0].large
    assert "办件编号：SH-PD-0001-20261201-AB12CD34" in printed.text
    assert "请妥善保管 Keep this receipt" in printed.text
    assert printed.native_qr == ["https://gov.example/track/AB12CD34"]


def test_a_raster_qr_code_larger_than_one_write_chunk_prints_whole(
        peer: EscposPeer, backend: UsbPrinterBackend) -> None:
    printer = printer_on(backend, model="TH230")
    assert len(printer.job(RECEIPT)) > 4096
    assert printer.print_receipt(RECEIPT).ok
    (printed,) = peer.receipts
    assert printed.qr_codes == ["https://gov.example/track/AB12CD34"]  # decoded from pixels


def test_an_unconfigured_printer_is_configured_before_its_driver_is_detached(
        peer: EscposPeer) -> None:
    backend = UsbPrinterBackend(peer, configured=False)
    try:
        assert printer_on(backend).print_receipt(RECEIPT).ok
    finally:
        backend.unplug()
    assert backend.configuration == 1 and len(peer.receipts) == 1


def test_paper_out_is_a_fault_and_nothing_prints(
        peer: EscposPeer, backend: UsbPrinterBackend) -> None:
    peer.set(paper="out")
    printer = printer_on(backend)
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.FAULT, "paper_out")
    assert printer.print_receipt(RECEIPT).failure is PrintFailure.PAPER_OUT
    peer.set(paper="ok")
    assert printer.status().state is DeviceState.READY and peer.receipts == []


def test_a_silent_printer_is_offline_not_paper_ok(
        peer: EscposPeer, backend: UsbPrinterBackend) -> None:
    peer.set(silent=True)
    printer = printer_on(backend)
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert "no answer to DLE EOT 1" in status.message
    assert printer.print_receipt(RECEIPT).failure is PrintFailure.OFFLINE
    assert peer.receipts == []


def test_a_printer_without_a_bulk_in_endpoint_is_not_answering(peer: EscposPeer) -> None:
    backend = UsbPrinterBackend(peer, bulk_in=False)
    try:
        status = printer_on(backend).status()
    finally:
        backend.unplug()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)


def test_no_such_device_is_not_connected(peer: EscposPeer) -> None:
    status = printer_on(UsbPrinterBackend(peer, plugged=False)).status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
    assert status.message == "usb 04b8:0202: no such device (is it plugged in?)"


def test_unplugged_printer_is_not_connected_until_plugged_back(
        peer: EscposPeer, backend: UsbPrinterBackend) -> None:
    printer = printer_on(backend)
    assert printer.status().state is DeviceState.READY
    backend.unplug()
    result = printer.print_receipt(RECEIPT)
    assert result.failure is PrintFailure.OFFLINE and "disconnected" in result.detail
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
    assert "no such device" in status.message
    backend.plug()
    assert printer.status().state is DeviceState.READY
    assert printer.print_receipt(RECEIPT).ok
    assert [r.text[0] for r in peer.receipts] == ["办件回执"]


def test_escpos_usb_from_its_profile_keys_looks_for_its_device(tmp_path: Path) -> None:
    """Built from the profile on pyusb's default backend (libusb-1.0), where this machine has
    no USB printer: the status names the ids the profile gave."""
    config = EscposUsbConfig(usb_vendor=0x04B8, usb_product=0x0202, model="TM-T88V")
    status = EscposPrinter.from_config(config, BuildContext(tmp_path)).status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
    assert status.message.startswith("usb 04b8:0202: ")
