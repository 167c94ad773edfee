"""A TCP link (a network receipt printer on port 9100, a wire peer on loopback)."""

from __future__ import annotations

import select
import socket

from devices.links.base import DeadlineReads, LinkError


class TcpLink(DeadlineReads):
    def __init__(self, host: str, port: int, *, connect_timeout_s: float = 3.0) -> None:
        self._host, self._port = host, port
        self._connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None

    @property
    def name(self) -> str:
        return f"{self._host}:{self._port}"

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection((self._host, self._port),
                                            timeout=self._connect_timeout_s)
        except OSError as e:
            raise LinkError(f"{self.name}: cannot connect: {e}") from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames, at once
        self._sock = sock

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise LinkError(f"{self.name}: not connected")
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._require()
        try:
            sock.settimeout(self._connect_timeout_s)
            sock.sendall(data)
        except OSError as e:
            self.close()
            raise LinkError(f"{self.name}: send failed: {e}") from e

    def _read_some(self, size: int, timeout_s: float) -> bytes:
        sock = self._require()
        try:
            sock.settimeout(timeout_s)
            data = sock.recv(size)
        except TimeoutError:
            return b""
        except OSError as e:
            self.close()
            raise LinkError(f"{self.name}: receive failed: {e}") from e
        if not data:  # the other end closed the connection
            self.close()
            raise LinkError(f"{self.name}: connection closed by the device")
        return data

    def discard_input(self) -> None:
        sock = self._require()
        while select.select([sock], [], [], 0)[0]:
            try:
                if not sock.recv(4096):
                    self.close()
                    raise LinkError(f"{self.name}: connection closed by the device")
            except BlockingIOError:
                return
            except OSError as e:
                self.close()
                raise LinkError(f"{self.name}: {e}") from e
