"""A USB link through pyusb (libusb-1.0 by default): the bulk OUT and bulk IN endpoints of a
USB printer-class interface, found by vendor and product id.

On Linux the kernel's usblp driver takes a printer as soon as it is plugged in; the link
detaches it, since only one of them can own the interface.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import usb.core
import usb.util

from devices.links.base import DeadlineReads, LinkError

PRINTER_CLASS = 7
WRITE_CHUNK = 4096  # a multiple of every bulk packet size; the write timeout is per chunk
DISCARD_TIMEOUT_MS = 5


class UsbLink(DeadlineReads):
    def __init__(self, vendor: int, product: int, *, backend: Any = None,
                 write_timeout_s: float = 3.0) -> None:
        self._vendor, self._product = vendor, product
        self._backend = backend
        self._write_timeout_s = write_timeout_s
        self._device: Any = None
        self._out: Any = None
        self._in: Any = None
        self._surplus = bytearray()  # the rest of a packet that brought more than was asked

    @property
    def name(self) -> str:
        return f"usb {self._vendor:04x}:{self._product:04x}"

    @property
    def is_open(self) -> bool:
        return self._device is not None

    def open(self) -> None:
        if self._device is not None:
            return
        try:
            device = usb.core.find(idVendor=self._vendor, idProduct=self._product,
                                   backend=self._backend)
        except usb.core.NoBackendError as e:
            raise LinkError(f"{self.name}: no USB library (libusb-1.0) found: {e}") from e
        if device is None:
            raise LinkError(f"{self.name}: no such device (is it plugged in?)")
        try:
            self._claim(device)
        except usb.core.USBError as e:
            with contextlib.suppress(usb.core.USBError):
                usb.util.dispose_resources(device)
            raise LinkError(f"{self.name}: cannot open: {e}") from e
        self._device = device
        self._surplus.clear()

    def _claim(self, device: Any) -> None:
        try:
            config = device.get_active_configuration()
        except usb.core.USBError:  # unconfigured: the kernel did not choose one
            device.set_configuration()
            config = device.get_active_configuration()
        interface = _printer_interface(config)
        if interface is None:
            raise usb.core.USBError("no interface with a bulk OUT endpoint to print on")
        number = interface.bInterfaceNumber
        with contextlib.suppress(NotImplementedError):  # only some backends can tell
            if device.is_kernel_driver_active(number):
                device.detach_kernel_driver(number)
        usb.util.claim_interface(device, number)
        if interface.bAlternateSetting:  # pyusb addresses endpoints of setting 0 otherwise
            interface.set_altsetting()
        self._out = _bulk(interface, usb.util.ENDPOINT_OUT)
        self._in = _bulk(interface, usb.util.ENDPOINT_IN)

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            # Releases the claimed interface and closes the handle; a device already gone
            # (unplugged) is as released as it can be.
            with contextlib.suppress(usb.core.USBError):
                usb.util.dispose_resources(device)

    def _require(self) -> None:
        if self._device is None:
            raise LinkError(f"{self.name}: not open")

    def _broke(self, doing: str, e: Exception) -> LinkError:
        self.close()
        return LinkError(f"{self.name}: {doing} failed: {e}")

    def write(self, data: bytes) -> None:
        self._require()
        timeout_ms = _ms(self._write_timeout_s)
        try:
            sent = 0
            while sent < len(data):
                sent += self._out.write(data[sent:sent + WRITE_CHUNK], timeout_ms)
        except usb.core.USBError as e:
            raise self._broke("write", e) from e

    def _read_some(self, size: int, timeout_s: float) -> bytes:
        self._require()
        if self._surplus:
            got = bytes(self._surplus[:size])
            del self._surplus[:size]
            return got
        if self._in is None:  # a printer that only listens: silence until the deadline
            time.sleep(timeout_s)
            return b""
        try:
            packet = self._packet(_ms(timeout_s))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as e:
            raise self._broke("read", e) from e
        self._surplus += packet[size:]
        return packet[:size]

    def _packet(self, timeout_ms: int) -> bytes:
        # A whole packet is asked for: a device that sends more than was asked for
        # overflows the transfer, and the bytes are lost.
        return bytes(self._in.read(self._in.wMaxPacketSize, timeout_ms))

    def discard_input(self) -> None:
        self._require()
        self._surplus.clear()
        if self._in is None:
            return
        try:
            while self._packet(DISCARD_TIMEOUT_MS):
                pass
        except usb.core.USBTimeoutError:
            return
        except usb.core.USBError as e:
            raise self._broke("read", e) from e


def _bulk(interface: Any, direction: int) -> Any:
    return usb.util.find_descriptor(interface, custom_match=lambda e: (
        usb.util.endpoint_direction(e.bEndpointAddress) == direction
        and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK))


def _printer_interface(config: Any) -> Any:
    """The printer-class interface, bidirectional before unidirectional (only the first
    answers status requests); else, for a vendor-class printer, the first that takes bulk
    OUT."""
    usable = [i for i in config if _bulk(i, usb.util.ENDPOINT_OUT) is not None]
    return min(usable, default=None, key=lambda i: (
        i.bInterfaceClass != PRINTER_CLASS, _bulk(i, usb.util.ENDPOINT_IN) is None))


def _ms(timeout_s: float) -> int:
    """At least 1 ms: to libusb a timeout of 0 means wait for ever."""
    return max(1, math.ceil(timeout_s * 1000))
