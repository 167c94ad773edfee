"""A tiny framed echo protocol, its adapter and its wire peer on a real pty: the smallest real
thing that proves the seam (link -> adapter -> DeviceWorker) before any hardware protocol.

Frame: STX, length, payload, XOR of the payload, ETX; declared once with construct and used by
both ends. The peer answers every good frame with the same payload, counts frames that do not
parse (what interleaved writers would produce), and goes silent on command.
"""

from __future__ import annotations

import functools
import operator
import threading

from construct import Byte, Bytes, Checksum, ChecksumError, Const, ConstructError, Struct, this

from devices.links import Link, LinkError
from devices.links.pty import PtyEnd
from devices.printer.protocol import PrintFailure, PrintResult, Receipt
from devices.status import DeviceState, DeviceStatus, LinkReason


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


EchoFrame = Struct(
    "stx" / Const(b"\x02"),
    "length" / Byte,
    "payload" / Bytes(this.length),
    "check" / Checksum(Byte, lambda payload: xor(payload), this.payload),
    "etx" / Const(b"\x03"),
)
OVERHEAD = 4  # stx, length, check, etx


def frame(payload: bytes) -> bytes:
    return bytes(EchoFrame.build({"length": len(payload), "payload": payload}))


def parse(data: bytes) -> bytes | None:
    try:
        return bytes(EchoFrame.parse(data).payload)
    except (ConstructError, ChecksumError):
        return None


class EchoDevice:
    """The adapter: one request, one answer, read with a deadline; trouble is a value."""

    def __init__(self, link: Link, *, read_timeout_s: float = 2.0) -> None:
        self.link = link
        self.read_timeout_s = read_timeout_s

    def echo(self, payload: bytes) -> bytes | None:
        try:
            self.link.open()
            self.link.discard_input()  # a late answer to an earlier request is not ours
            self.link.write(frame(payload))
            head = self.link.read(2, self.read_timeout_s)
            if len(head) < 2:
                return None
            rest = self.link.read(head[1] + OVERHEAD - 2, self.read_timeout_s)
        except LinkError:
            return None
        return parse(head + rest)

    def status(self) -> DeviceStatus:
        answer = self.echo(b"?")
        if answer == b"?":
            return DeviceStatus.ready()
        if answer is None and not self.link.is_open:
            return DeviceStatus.offline(LinkReason.NOT_CONNECTED, f"{self.link.name} is gone")
        return DeviceStatus(DeviceState.OFFLINE, LinkReason.NOT_ANSWERING,
                            "no valid answer to a ping")


class EchoPrinter(EchoDevice):
    """A "receipt printer" on the echo protocol: a line printed is a line echoed back."""

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        for line in (receipt.title, *receipt.lines):
            data = line.encode()[:200]
            if self.echo(data) != data:
                return PrintResult(failure=PrintFailure.OFFLINE, detail="no echo")
        return PrintResult(printed_text=(receipt.title, *receipt.lines))

    def self_test(self) -> DeviceStatus:
        return self.status()


class EchoPeer:
    """The far end of a pty: answers frames until told to be silent."""

    def __init__(self) -> None:
        self._pty = PtyEnd()
        self.port = self._pty.port
        self.silent = threading.Event()
        self.frames = 0
        self.bad_frames = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="echo-peer", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            buffer = self._take_frames(buffer + self._pty.read(0.05))

    def _take_frames(self, buffer: bytes) -> bytes:
        while buffer:
            if buffer[0] != 0x02:  # garbage before a frame: skip to the next STX
                self.bad_frames += 1
                nxt = buffer.find(b"\x02", 1)
                buffer = buffer[nxt:] if nxt >= 0 else b""
                continue
            if len(buffer) < 2 or len(buffer) < buffer[1] + OVERHEAD:
                return buffer  # wait for the rest
            size = buffer[1] + OVERHEAD
            payload, buffer = parse(buffer[:size]), buffer[size:]
            if payload is None:
                self.bad_frames += 1
                continue
            self.frames += 1
            if not self.silent.is_set():
                self._pty.write(frame(payload))
        return buffer

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._pty.close()
