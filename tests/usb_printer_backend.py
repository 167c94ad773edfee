"""A pyusb backend that stands in for libusb, because no USB device can exist on this machine
(no hardware, and no dummy_hcd or usbip kernel modules to fake one). Everything above the
backend is the production code: pyusb's Device, the UsbLink and the ESC/POS adapter.

It presents one USB receipt printer as the kernel would after enumeration: configured, with
usblp bound to its printer-class interface (bidirectional: bulk OUT 0x01, bulk IN 0x81, 64-byte
packets). What the host writes to bulk OUT goes to the real ESC/POS wire peer
(devices.printer.escpos.peer) over loopback TCP, and bulk IN serves what the peer answers, with
libusb's timeouts and errors as pyusb's libusb-1.0 backend raises them. It can be unplugged
(open handles then fail with ENODEV, as libusb's do) and plugged back (a new address, usblp
bound again).
"""

from __future__ import annotations

import array
import contextlib
import select
import socket
import threading
from dataclasses import dataclass, field

import usb.backend
import usb.core
from usb.backend import libusb1

from devices.printer.escpos.peer import EscposPeer

BULK = 0x02
OUT_EP, IN_EP = 0x01, 0x81
MAX_PACKET = 64


def libusb_error(code: int) -> usb.core.USBError:
    """The exception pyusb's libusb-1.0 backend raises for this libusb error code."""
    kind = usb.core.USBTimeoutError if code == libusb1.LIBUSB_ERROR_TIMEOUT else usb.core.USBError
    return kind(libusb1._str_error_map[code], code, libusb1._libusb_errno[code])


@dataclass
class DeviceDescriptor:
    idVendor: int
    idProduct: int
    address: int
    bLength: int = 18
    bDescriptorType: int = 1
    bcdUSB: int = 0x0200
    bDeviceClass: int = 0  # the class is the interface's
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bMaxPacketSize0: int = 64
    bcdDevice: int = 0x0100
    iManufacturer: int = 0
    iProduct: int = 0
    iSerialNumber: int = 0
    bNumConfigurations: int = 1
    bus: int = 1
    port_number: int = 1
    port_numbers: tuple[int, ...] = (1,)
    speed: int = 2  # libusb_speed: full speed, where bulk packets are 64 bytes


@dataclass
class ConfigurationDescriptor:
    wTotalLength: int
    bLength: int = 9
    bDescriptorType: int = 2
    bNumInterfaces: int = 1
    bConfigurationValue: int = 1
    iConfiguration: int = 0
    bmAttributes: int = 0xC0  # self-powered
    bMaxPower: int = 1
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass
class InterfaceDescriptor:
    bNumEndpoints: int
    bInterfaceProtocol: int  # 1 unidirectional, 2 bidirectional
    bLength: int = 9
    bDescriptorType: int = 4
    bInterfaceNumber: int = 0
    bAlternateSetting: int = 0
    bInterfaceClass: int = 7  # printer
    bInterfaceSubClass: int = 1
    iInterface: int = 0
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass
class EndpointDescriptor:
    bEndpointAddress: int
    bLength: int = 7
    bDescriptorType: int = 5
    bmAttributes: int = BULK
    wMaxPacketSize: int = MAX_PACKET
    bInterval: int = 0
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra_descriptors: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Enumerated:
    address: int


@dataclass
class Handle:
    address: int
    wire: socket.socket  # to the peer: the printer's end of the cable


class UsbPrinterBackend(usb.backend.IBackend):
    def __init__(self, peer: EscposPeer, vendor: int = 0x04B8, product: int = 0x0202, *,
                 plugged: bool = True, configured: bool = True, bulk_in: bool = True) -> None:
        super().__init__()
        self._peer = peer
        self._vendor, self._product = vendor, product
        self._endpoints = [EndpointDescriptor(OUT_EP)] + ([EndpointDescriptor(IN_EP)]
                                                          if bulk_in else [])
        self._lock = threading.Lock()
        self._handles: list[Handle] = []
        self._address = 0
        self.plugged = False
        self.configuration = 1 if configured else 0
        self.kernel_driver_bound = False
        if plugged:
            self.plug()

    # ---------------------------------------------------------------- the cable
    def plug(self) -> None:
        """Enumerated anew: a new address, and usblp binds if the kernel configured it."""
        with self._lock:
            self.plugged = True
            self._address += 1
            self.kernel_driver_bound = self.configuration != 0

    def unplug(self) -> None:
        with self._lock:
            self.plugged = False
            handles, self._handles = self._handles, []
        for handle in handles:
            _hang_up(handle.wire)

    def _alive(self, handle: Handle) -> None:
        if not self.plugged or handle.address != self._address:
            raise libusb_error(libusb1.LIBUSB_ERROR_NO_DEVICE)

    # ---------------------------------------------------------------- descriptors
    def enumerate_devices(self) -> list[Enumerated]:
        return [Enumerated(self._address)] if self.plugged else []

    def get_device_descriptor(self, dev: Enumerated) -> DeviceDescriptor:
        return DeviceDescriptor(self._vendor, self._product, dev.address)

    def get_configuration_descriptor(self, dev: Enumerated,
                                     config: int) -> ConfigurationDescriptor:
        if config != 0:
            raise IndexError(config)
        return ConfigurationDescriptor(9 + 9 + 7 * len(self._endpoints))

    def get_interface_descriptor(self, dev: Enumerated, intf: int, alt: int,
                                 config: int) -> InterfaceDescriptor:
        if (intf, alt, config) != (0, 0, 0):
            raise IndexError((intf, alt, config))
        return InterfaceDescriptor(len(self._endpoints), 2 if len(self._endpoints) == 2 else 1)

    def get_endpoint_descriptor(self, dev: Enumerated, ep: int, intf: int, alt: int,
                                config: int) -> EndpointDescriptor:
        self.get_interface_descriptor(dev, intf, alt, config)
        return self._endpoints[ep]

    # ---------------------------------------------------------------- handles
    def open_device(self, dev: Enumerated) -> Handle:
        if not self.plugged or dev.address != self._address:
            raise libusb_error(libusb1.LIBUSB_ERROR_NO_DEVICE)
        handle = Handle(dev.address, socket.create_connection((self._peer.host, self._peer.port)))
        with self._lock:
            self._handles.append(handle)
        return handle

    def close_device(self, dev_handle: Handle) -> None:
        with self._lock:
            if dev_handle in self._handles:
                self._handles.remove(dev_handle)
        _hang_up(dev_handle.wire)

    def get_configuration(self, dev_handle: Handle) -> int:
        self._alive(dev_handle)
        return self.configuration

    def set_configuration(self, dev_handle: Handle, config_value: int) -> None:
        self._alive(dev_handle)
        if self.kernel_driver_bound:
            raise libusb_error(libusb1.LIBUSB_ERROR_BUSY)
        self.configuration = config_value
        self.kernel_driver_bound = config_value != 0  # the kernel probes the new interfaces

    def is_kernel_driver_active(self, dev_handle: Handle, intf: int) -> bool:
        self._alive(dev_handle)
        return self.kernel_driver_bound

    def detach_kernel_driver(self, dev_handle: Handle, intf: int) -> None:
        self._alive(dev_handle)
        if not self.kernel_driver_bound:
            raise libusb_error(libusb1.LIBUSB_ERROR_NOT_FOUND)
        self.kernel_driver_bound = False

    def claim_interface(self, dev_handle: Handle, intf: int) -> None:
        self._alive(dev_handle)
        if self.kernel_driver_bound:
            raise libusb_error(libusb1.LIBUSB_ERROR_BUSY)

    def release_interface(self, dev_handle: Handle, intf: int) -> None:
        self._alive(dev_handle)

    # ---------------------------------------------------------------- transfers
    def bulk_write(self, dev_handle: Handle, ep: int, intf: int, data: array.array[int],
                   timeout: int) -> int:
        self._alive(dev_handle)
        _check_timeout(timeout)
        try:
            dev_handle.wire.sendall(data.tobytes())
        except OSError as e:
            raise libusb_error(libusb1.LIBUSB_ERROR_NO_DEVICE) from e
        return len(data)

    def bulk_read(self, dev_handle: Handle, ep: int, intf: int, buff: array.array[int],
                  timeout: int) -> int:
        self._alive(dev_handle)
        _check_timeout(timeout)
        try:
            ready = select.select([dev_handle.wire], [], [], timeout / 1000)[0]
            got = dev_handle.wire.recv(len(buff)) if ready else None
        except (OSError, ValueError):  # hung up (ValueError: closed) while it waited
            got = b""
        if got is None:
            raise libusb_error(libusb1.LIBUSB_ERROR_TIMEOUT)
        if not got:  # the cable was pulled while the transfer waited
            raise libusb_error(libusb1.LIBUSB_ERROR_NO_DEVICE)
        buff[:len(got)] = array.array("B", got)
        return len(got)


def _check_timeout(timeout: int) -> None:
    if timeout <= 0:
        raise AssertionError(f"timeout {timeout} ms: libusb would wait for ever")


def _hang_up(wire: socket.socket) -> None:
    with contextlib.suppress(OSError):
        wire.shutdown(socket.SHUT_RDWR)  # wakes a transfer waiting on it
    wire.close()
