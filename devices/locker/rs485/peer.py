"""Locker boards on the far end of a pty: the wire peer the production adapter is tested
against. Several boards share the line as on an RS-485 bus (only the one addressed answers);
they speak the real frames (frames.py) at the real line speed (a pty moves bytes at once, so
the peer takes each frame's time on the wire, 10 bits a byte at 8N1), and have door physics:
an unlocked door springs open `reaction_s` later and stays open until it is closed. Item
sensors see what is put in or taken out. Faults on command: a silent board, a jammed lock,
replies with a wrong checksum, a stuck door sensor, a board that answers late. Chosen only
explicitly, never a fallback.

A compartment is named either by (board, lock) or by its number when the boards' locks are
counted in address order (board 1's locks 1..24 are 1..24, board 2's are 25..48): the
layout a profile gets without `compartments`, and the one of two boards listed in order.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar

from devices.links.pty import PtyEnd
from devices.locker.rs485 import frames
from devices.locker.rs485.frames import (
    AskStatus,
    Bitmap,
    BoardData,
    FrameError,
    Query,
    Released,
    Sensors,
    Unlock,
)

BoardProtocol = Literal["8a80", "kerong"]
Where = int | tuple[int, int]  # a compartment number, or (board, lock)
Key = tuple[int, int]
Request = Unlock | Query | AskStatus
T = TypeVar("T")
FIRST_BOARD: dict[str, int] = {"8a80": 1, "kerong": 0}
BAUDRATE: dict[str, int] = {"8a80": 9600, "kerong": 19200}


class LockerBoardPeer:
    def __init__(self, protocol: BoardProtocol = "8a80",
                 boards: Mapping[int, int] | None = None, *, reaction_s: float = 0.05,
                 baudrate: int | None = None,
                 invert_doors: bool = False, invert_items: bool = False,
                 item_sensors: bool = True) -> None:
        """`boards`: address -> number of locks (one board of 24 at the first address by
        default). `invert_*`: the wiring reads 1 for a closed door, an empty compartment.
        `item_sensors=False`: 8A/80 boards without infrared sensors (they do not answer the
        item query); Kerong boards always have them."""
        self.protocol = protocol
        self._boards = dict(sorted((boards or {FIRST_BOARD[protocol]: 24}).items()))
        if any(not 1 <= n <= frames.LOCKS_PER_BOARD for n in self._boards.values()):
            raise ValueError(f"a board holds 1 to {frames.LOCKS_PER_BOARD} locks")
        self.reaction_s = reaction_s
        self.byte_s = 10 / (baudrate or BAUDRATE[protocol])
        self._invert_doors, self._invert_items = invert_doors, invert_items
        self._item_sensors = item_sensors
        self._lock = threading.Lock()
        self._springs_at: dict[Key, float] = {}  # unlocked, not open yet
        self._open: set[Key] = set()
        self._items: set[Key] = set()
        self._silent: set[int] = set()
        self._corrupt: set[int] = set()
        self._corrupt_next: Counter[int] = Counter()
        self._late_s: dict[int, float] = {}
        self._jammed: set[Key] = set()
        self._stuck: dict[Key, bool] = {}
        self.unlocks: Counter[Key] = Counter()  # every unlock the bus carried
        self.requests: list[Request] = []  # every good request the bus carried, in order
        self.replies = 0  # how many replies went out
        self._pty = PtyEnd()
        self.port = self._pty.port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="locker-peer", daemon=True)
        self._thread.start()

    # -- what the citizen and staff do
    def key(self, where: Where) -> Key:
        if isinstance(where, tuple):
            return where
        number = where
        for board, locks in self._boards.items():
            if number <= locks:
                return board, number
            number -= locks
        raise ValueError(f"no compartment {where} on boards {list(self._boards)}")

    def close(self, where: Where) -> None:
        key = self.key(where)
        with self._lock:
            self._springs_at.pop(key, None)
            self._open.discard(key)

    def put_item(self, where: Where) -> None:
        with self._lock:
            self._items.add(self.key(where))

    def take_item(self, where: Where) -> None:
        with self._lock:
            self._items.discard(self.key(where))

    def has_item(self, where: Where) -> bool:
        """What is really inside, whatever the infrared sensor says."""
        with self._lock:
            return self.key(where) in self._items

    def is_open(self, where: Where) -> bool:
        """The door itself, whatever its sensor says."""
        with self._lock:
            return self._door(self.key(where), time.monotonic())

    # -- faults
    def silent(self, board: int, on: bool = True) -> None:
        """The board hears nothing and answers nothing (unpowered, its cable cut)."""
        with self._lock:
            _switch(self._silent, board, on)

    def corrupt(self, board: int, on: bool = True) -> None:
        """The board acts on requests, but its replies carry a wrong checksum."""
        with self._lock:
            _switch(self._corrupt, board, on)

    def corrupt_next(self, board: int, replies: int = 1) -> None:
        """Only the board's next `replies` replies carry a wrong checksum (a line glitch)."""
        with self._lock:
            self._corrupt_next[board] = replies

    def jam(self, board: int, lock: int, on: bool = True) -> None:
        """The lock does not release: an unlock does nothing (the 8A/80 echo says 00)."""
        with self._lock:
            _switch(self._jammed, (board, lock), on)

    def stuck(self, board: int, lock: int, door: bool | None) -> None:
        """The door sensor reads open (True) or closed (False) whatever the door does;
        None mends it."""
        with self._lock:
            if door is None:
                self._stuck.pop((board, lock), None)
            else:
                self._stuck[(board, lock)] = door

    def late(self, board: int, delay_s: float) -> None:
        """The board answers `delay_s` late (0: on time)."""
        with self._lock:
            self._late_s[board] = delay_s

    # -- the boards
    def _door(self, key: Key, now: float) -> bool:
        springs_at = self._springs_at.get(key)
        if springs_at is not None and now >= springs_at:
            del self._springs_at[key]
            self._open.add(key)
        return key in self._open

    def _bits(self, board: int, sensed: Callable[[Key], bool], invert: bool) -> int:
        bits = 0
        for lock in range(1, self._boards[board] + 1):
            if sensed((board, lock)) != invert:
                bits |= 1 << (lock - 1)
        return bits

    def _door_bits(self, board: int, now: float) -> int:
        return self._bits(board, lambda k: self._stuck.get(k, self._door(k, now)),
                          self._invert_doors)

    def _item_bits(self, board: int) -> int:
        return self._bits(board, lambda k: k in self._items, self._invert_items)

    def _unlock(self, key: Key, now: float) -> bool:
        board, lock = key
        if key in self._jammed or lock > self._boards[board]:
            return False
        if not self._door(key, now):
            self._springs_at.setdefault(key, now + self.reaction_s)
        return True

    def _reply(self, request: Request, now: float) -> bytes | None:
        board = request.board
        if self.protocol == "kerong":
            if isinstance(request, Unlock):
                self._unlock((board, request.lock), now)
            return frames.build_kerong(
                BoardData(board, self._door_bits(board, now), self._item_bits(board)))
        if isinstance(request, Unlock):
            released = self._unlock((board, request.lock), now)
            return frames.build_8a80(Released(board, request.lock, released))
        assert isinstance(request, Query)  # the only other 8A/80 request
        if request.sensors is Sensors.DOORS:
            return frames.build_8a80(Bitmap(board, Sensors.DOORS, self._door_bits(board, now)))
        if not self._item_sensors:
            return None  # a board without infrared sensors does not know the query
        return frames.build_8a80(Bitmap(board, Sensors.ITEMS, self._item_bits(board)))

    # -- the wire
    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            buffer += self._pty.read(0.05)
            while True:
                found, buffer = self._next_request(buffer)
                if found is None:
                    break
                self._answer(*found)

    def _next_request(self, buffer: bytes) -> tuple[tuple[Request, bytes] | None, bytes]:
        """The first good request in `buffer` and what follows it (None: more bytes are
        needed). Bytes that start no good frame are skipped, as a board skips line noise."""
        starts = b"\x02" if self.protocol == "kerong" else b"\x8a\x80"
        while True:
            while buffer and buffer[0] not in starts:
                buffer = buffer[1:]
            size = self._request_size(buffer)
            if size and len(buffer) < size:
                return None, buffer
            raw = buffer[:size]
            try:
                request = (frames.parse_kerong_request(raw) if self.protocol == "kerong"
                           else frames.parse_8a80_request(raw))
            except FrameError:
                buffer = buffer[1:]
                continue
            return (request, raw), buffer[size:]

    def _request_size(self, buffer: bytes) -> int:
        """How long the request at the head of `buffer` is (0: it is none)."""
        if self.protocol != "kerong":
            return frames.REQUEST_SIZE_8A80
        if len(buffer) < 3:
            return 3  # STX, address, command: enough to know
        return frames.KERONG_REQUEST_SIZE.get(buffer[2], 0)

    def _answer(self, request: Request, raw: bytes) -> None:
        time.sleep(len(raw) * self.byte_s)  # the request's time on the line
        board = request.board
        with self._lock:
            self.requests.append(request)
            if isinstance(request, Unlock):
                self.unlocks[(board, request.lock)] += 1
            if board not in self._boards or board in self._silent:
                return
            reply = self._reply(request, time.monotonic())
            glitch = self._corrupt_next[board] > 0
            if glitch:
                self._corrupt_next[board] -= 1
            corrupt = glitch or board in self._corrupt
            late_s = self._late_s.get(board, 0.0)
        if reply is None:
            return
        if corrupt:
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        time.sleep(late_s + len(reply) * self.byte_s)  # the reply's time on the line
        self._pty.write(reply)
        with self._lock:
            self.replies += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._pty.close()


def _switch(faults: set[T], what: T, on: bool) -> None:
    if on:
        faults.add(what)
    else:
        faults.discard(what)


def _where(word: str) -> Where:
    board, _, lock = word.partition(":")
    return (int(board), int(lock)) if lock else int(board)


def main() -> None:
    """`python -m devices.locker.rs485.peer [8a80|kerong] [ADDRESS:LOCKS ...]`: the boards as
    a process of their own (for the demo). It prints its port, then takes one command a line
    on stdin, a compartment being N or BOARD:LOCK: `close C`, `put C`, `take C`,
    `silent BOARD on|off`, `corrupt BOARD on|off`, `jam BOARD:LOCK on|off`,
    `stuck BOARD:LOCK open|closed|off`; it ends when stdin closes."""
    import sys

    protocol: BoardProtocol = "kerong" if sys.argv[1:2] == ["kerong"] else "8a80"
    boards = {int(a): int(n) for a, _, n in (w.partition(":") for w in sys.argv[2:])}
    peer = LockerBoardPeer(protocol, boards or None)
    print(peer.port, flush=True)
    for line in sys.stdin:
        try:
            word, *args = line.split()
            _command(peer, word, args)
        except (ValueError, IndexError, KeyError):
            print(f"not a command: {line.strip()}", file=sys.stderr, flush=True)
    peer.stop()


def _command(peer: LockerBoardPeer, word: str, args: list[str]) -> None:
    if word in ("close", "put", "take"):
        {"close": peer.close, "put": peer.put_item, "take": peer.take_item}[word](
            _where(args[0]))
    elif word in ("silent", "corrupt"):
        (peer.silent if word == "silent" else peer.corrupt)(int(args[0]), args[1] == "on")
    elif word in ("jam", "stuck"):
        board, lock = peer.key(_where(args[0]))
        if word == "jam":
            peer.jam(board, lock, args[1] == "on")
        else:
            peer.stuck(board, lock, {"open": True, "closed": False, "off": None}[args[1]])
    else:
        raise ValueError(word)


if __name__ == "__main__":
    main()
