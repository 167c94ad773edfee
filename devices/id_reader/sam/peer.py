"""A SAM reader on the far end of a pty: the wire peer the production adapter is tested
against (and the demo reads from). It speaks the real frames (frames.py), holds a card that
can be inserted and removed, and misbehaves on command: the card pulled mid-read, replies with
a corrupt checksum, silence, a failing SAM module. Chosen only explicitly, never a fallback.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from devices.id_reader.protocol import Identity
from devices.id_reader.sam import frames
from devices.id_reader.sam.frames import FrameError, Sw3
from devices.id_reader.sam.text import encode
from devices.links.pty import PtyEnd

log = logging.getLogger(__name__)
PHOTO_SIZE = 1024


@dataclass(frozen=True)
class SamCard:
    text: bytes  # the 256-byte UCS-2LE text block
    photo: bytes  # the 1,024-byte WLT photo (opaque)

    @classmethod
    def of(cls, identity: Identity, photo: bytes | None = None) -> SamCard:
        wlt = photo if photo is not None else (b"WLT" + bytes(PHOTO_SIZE - 3))
        return cls(encode(identity), wlt)


class SamReaderPeer:
    def __init__(self, *, card_delay_s: float = 0.0, baudrate: int | None = None,
                 sam_id: bytes = bytes.fromhex("0501000020171101000012345678abcd")) -> None:
        self._pty = PtyEnd()
        self.port = self._pty.port
        self.card_delay_s = card_delay_s
        # A pty moves bytes at once; with a baud rate the peer takes the line's time, both
        # ways (10 bits a byte at 8N1), as a module on a real serial line would.
        self.byte_s = 10 / baudrate if baudrate else 0.0
        self.sam_id = sam_id
        self._lock = threading.Lock()
        self._card: SamCard | None = None
        self.silent = threading.Event()  # answer nothing at all (unplugged module, dead line)
        self.sam_broken = False  # the module answers, but says its SAM is not working
        self.pull_on_next_read = False  # the citizen takes the card away while it is read
        self.corrupt_replies = 0  # how many next replies go out with a wrong checksum
        self.requests: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sam-peer", daemon=True)
        self._thread.start()

    # -- what the citizen does
    def insert(self, card: SamCard) -> None:
        with self._lock:
            self._card = card

    def remove(self) -> None:
        with self._lock:
            self._card = None

    @property
    def has_card(self) -> bool:
        with self._lock:
            return self._card is not None

    # -- the wire
    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            buffer += self._pty.read(0.05)
            buffer = self._take_requests(buffer)

    def _take_requests(self, buffer: bytes) -> bytes:
        while True:
            start = buffer.find(frames.PREAMBLE)
            if start < 0:
                return buffer[-(len(frames.PREAMBLE) - 1):]  # keep a preamble cut in two
            buffer = buffer[start:]
            if len(buffer) < frames.HEADER:
                return buffer
            try:
                size = frames.HEADER + frames.frame_length(buffer[:frames.HEADER])
            except FrameError:
                buffer = buffer[1:]
                continue
            if len(buffer) < size:
                return buffer
            raw, buffer = buffer[:size], buffer[size:]
            self._answer(raw)

    def _answer(self, raw: bytes) -> None:
        if self.silent.is_set():
            return
        if self.byte_s:
            time.sleep(len(raw) * self.byte_s)  # the request's time on the line
        try:
            request = frames.parse_request(raw)
        except FrameError:
            self._send(Sw3.CHECKSUM_ERROR)
            return
        command = (request.command, request.parameter)
        self.requests.append(command)
        with self._lock:
            card = self._card
        if command == frames.SAM_ID:
            self._send(Sw3.SAM_FAULT if self.sam_broken else Sw3.OK, self.sam_id)
        elif self.sam_broken:
            self._send(Sw3.SAM_FAULT)
        elif command == frames.FIND_CARD:
            self._send(Sw3.CARD_FOUND if card else Sw3.FIND_FAILED, bytes(4))
        elif command == frames.SELECT_CARD:
            self._send(Sw3.OK if card else Sw3.SELECT_FAILED, bytes(8))
        elif command == frames.READ_TEXT_AND_PHOTO:
            self._read(card)
        else:
            self._send(Sw3.COMMAND_ERROR)

    def _read(self, card: SamCard | None) -> None:
        if self.card_delay_s:
            time.sleep(self.card_delay_s)  # the card's own time to give its data
        if self.pull_on_next_read:
            self.pull_on_next_read = False
            self.remove()
            card = None
        if card is None:
            self._send(Sw3.READ_FAILED)
            return
        self._send(Sw3.OK, frames.build_text_and_photo(card.text, card.photo))

    def _send(self, sw3: int, data: bytes = b"") -> None:
        reply = bytearray(frames.build_reply(sw3, data))
        if self.corrupt_replies > 0:
            self.corrupt_replies -= 1
            reply[-1] ^= 0xFF
        if not self.byte_s:
            self._pty.write(bytes(reply))
            return
        for i in range(0, len(reply), 64):  # the reply's time on the line, as it goes out
            chunk = bytes(reply[i:i + 64])
            time.sleep(len(chunk) * self.byte_s)
            self._pty.write(chunk)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._pty.close()


def main() -> None:
    """`python -m devices.id_reader.sam.peer`: the peer as a process of its own (the demo
    starts it). It prints its port, then takes one command a line on stdin:
    `insert N` (the Nth demo citizen's card), `remove`, `pull` (the next read is cut short),
    `corrupt N`, `silent on|off`, `sam broken|ok`; it ends when stdin closes."""
    import sys

    from devices.id_reader.simulator import DEMO_CITIZENS

    peer = SamReaderPeer(card_delay_s=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(peer.port, flush=True)
    for line in sys.stdin:
        word, _, arg = line.strip().partition(" ")
        if word == "insert" and arg.isdigit():
            peer.insert(SamCard.of(DEMO_CITIZENS[int(arg) % len(DEMO_CITIZENS)]))
        elif word == "remove":
            peer.remove()
        elif word == "pull":
            peer.pull_on_next_read = True
        elif word == "corrupt" and arg.isdigit():
            peer.corrupt_replies = int(arg)
        elif word == "silent":
            (peer.silent.set if arg == "on" else peer.silent.clear)()
        elif word == "sam":
            peer.sam_broken = arg == "broken"
        else:
            print(f"unknown command: {line.strip()}", file=sys.stderr, flush=True)
    peer.close()


if __name__ == "__main__":
    main()
