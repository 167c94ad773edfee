"""Byte transports for wire adapters: a serial line (or anything pyserial opens by URL) and a
TCP socket. A link moves bytes with deadlines; framing and device logic live elsewhere."""

from devices.links.base import Link, LinkError
from devices.links.serial import SerialLink
from devices.links.tcp import TcpLink

__all__ = ["Link", "LinkError", "SerialLink", "TcpLink"]
