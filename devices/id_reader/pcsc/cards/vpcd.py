"""A card in vpcd's virtual reader: a TCP client of pcscd's vpcd driver.

Every frame both ways is a 2-byte big-endian length and a payload. A 1-byte payload from vpcd
is control (00 power off, 01 power on, 02 reset, 04 send the ATR); anything longer is a command
APDU, answered with data + SW1 SW2. Connecting is inserting the card; closing is removing it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

VPCD_PORTS = (35963, 35964)  # the readers "Virtual PCD 00 00" and "Virtual PCD 00 01"
T0_ATR = bytes.fromhex("3B 88 80 01 00 00 00 00 00 00 00 00 09".replace(" ", ""))
T1_ATR = bytes.fromhex("3B 8A 80 01 00 31 C1 73 C8 40 00 00 90 00 90")


class VirtualCard:
    """Subclasses answer APDUs in `respond`. `t0`: answer as a T=0 card (61xx chaining)."""

    atr = T1_ATR

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.apdus: list[bytes] = []
        self.pull_after_apdus: int | None = None  # taken away after this many commands

    def respond(self, apdu: bytes) -> bytes:
        raise NotImplementedError

    def insert(self, port: int = VPCD_PORTS[0], host: str = "127.0.0.1",
               timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=2.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                        name="virtual-card")
        self._thread.start()

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def _recv(self, sock: socket.socket, n: int) -> bytes:
        got = b""
        while len(got) < n:
            # vpcd writes length and body separately: without QUICKACK each APDU stalls ~40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(n - len(got))
            if not chunk:
                raise ConnectionError("vpcd closed the connection")
            got += chunk
        return got

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                size = int.from_bytes(self._recv(sock, 2), "big")
                payload = self._recv(sock, size)
                if size == 1:
                    if payload[0] == 0x04:
                        self._send(sock, self.atr)
                    continue  # power on/off and reset need no answer
                self.apdus.append(payload)
                if self.pull_after_apdus is not None and len(self.apdus) > self.pull_after_apdus:
                    sock.close()  # the card leaves the field in the middle of the read
                    self._sock = None
                    return
                self._send(sock, self.respond(payload))
        except (OSError, ConnectionError):
            return
