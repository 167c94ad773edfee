"""Byte transports for wire adapters: a serial line (or anything pyserial opens by URL), a
TCP socket and a USB device's bulk endpoints. A link moves bytes with deadlines; framing and
device logic live elsewhere."""

from devices.links.base import Link, LinkError
from devices.links.serial import SerialLink
from devices.links.tcp import TcpLink
from devices.links.usb import UsbLink

__all__ = ["Link", "LinkError", "SerialLink", "TcpLink", "UsbLink"]
