"""A serial link through pyserial's `serial_for_url`: a device (/dev/ttyUSB0), a pty a wire
peer listens on, `socket://host:port`, `loop://` and `spy://` all open the same way."""

from __future__ import annotations

import contextlib

import serial

from devices.links.base import DeadlineReads, LinkError


class SerialLink(DeadlineReads):
    def __init__(self, url: str, *, baudrate: int = 9600, bytesize: int = 8,
                 parity: str = "N", stopbits: float = 1) -> None:
        self._url = url
        self._baudrate, self._bytesize, self._parity, self._stopbits = (
            baudrate, bytesize, parity, stopbits)
        self._port: serial.Serial | None = None

    @property
    def name(self) -> str:
        return self._url

    @property
    def is_open(self) -> bool:
        return self._port is not None and self._port.is_open

    def open(self) -> None:
        if self.is_open:
            return
        try:
            self._port = serial.serial_for_url(
                self._url, baudrate=self._baudrate, bytesize=self._bytesize,
                parity=self._parity, stopbits=self._stopbits, timeout=0, write_timeout=2.0)
        except (serial.SerialException, ValueError, OSError) as e:
            self._port = None
            raise LinkError(f"{self._url}: cannot open: {e}") from e

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # Already gone (unplugged): closed is what we wanted.
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _require(self) -> serial.Serial:
        if self._port is None or not self._port.is_open:
            raise LinkError(f"{self._url}: not open")
        return self._port

    def write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as e:
            self.close()
            raise LinkError(f"{self._url}: write failed: {e}") from e

    def _read_some(self, size: int, timeout_s: float) -> bytes:
        port = self._require()
        try:
            port.timeout = timeout_s
            return bytes(port.read(size))
        except (serial.SerialException, OSError) as e:
            self.close()
            raise LinkError(f"{self._url}: read failed: {e}") from e

    def discard_input(self) -> None:
        port = self._require()
        try:
            port.reset_input_buffer()
        except (serial.SerialException, OSError) as e:
            self.close()
            raise LinkError(f"{self._url}: {e}") from e
