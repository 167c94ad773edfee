"""One request and its reply on the RS-485 bus, for each board protocol.

Every board on the bus hears every request and only the one addressed answers, so an exchange
is one request, then one reply of a known length read with a deadline. The link is held for
the whole exchange, and what arrived unasked is dropped before each request: a late reply to
an earlier request (from a board that answered after its deadline) is never taken for the next
one's. Silence is BoardSilent, a reply cut short or not the one asked for is a FrameError,
a port that cannot be opened or broke is a LinkError; the adapter turns each into a status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from devices.links import Link
from devices.locker.rs485 import frames
from devices.locker.rs485.frames import FrameError, Sensors

log = logging.getLogger(__name__)
T = TypeVar("T")


class BoardSilent(Exception):
    """No reply from the board within the deadline."""

    def __init__(self, board: int) -> None:
        super().__init__(f"board {board} does not answer")
        self.board = board


@dataclass(frozen=True)
class Reading:
    """One board's sensor bits as the board reads them (lock n is bit n-1), before the
    wiring's polarity is applied."""

    doors: int
    items: int | None  # None: this board has no item sensors


class Bus(Protocol):
    @property
    def link(self) -> Link: ...

    def read(self, board: int, *, items: bool = True) -> Reading:
        """The board's sensors; `items=False` when only the doors matter (less to ask)."""
        ...

    def unlock(self, board: int, lock: int) -> None:
        """Send one unlock; the board's acknowledgement is checked, the door is not."""
        ...


class _Exchanges:
    def __init__(self, link: Link, reply_timeout_s: float) -> None:
        self._link = link
        self._reply_timeout_s = reply_timeout_s
        # Reentrant: a reading of two exchanges (8A/80 doors and items) is held as one.
        self._lock = threading.RLock()

    @property
    def link(self) -> Link:
        return self._link

    def _exchange(self, request: bytes, reply_size: int, board: int,
                  parse: Callable[[bytes], T]) -> T:
        """The parsed reply to `request`. A reply that is not the one asked for (a late one
        to a request before, a garbled one) is passed over while the deadline lasts: the
        right one may still come behind it, and the bus stays in step."""
        with self._lock:
            self._link.open()
            self._link.discard_input()
            self._link.write(request)
            deadline = time.monotonic() + self._reply_timeout_s
            wrong: FrameError | None = None
            while True:
                remaining = deadline - time.monotonic()
                reply = self._link.read(reply_size, remaining) if remaining > 0 else b""
                if not reply:
                    if wrong is not None:
                        raise wrong
                    raise BoardSilent(board)
                if len(reply) < reply_size:
                    raise FrameError(f"a reply cut short: {reply.hex(' ')}")
                try:
                    return parse(reply)
                except FrameError as e:
                    wrong = e


class Bus8a80(_Exchanges):
    """8A/80 boards. Whether a board has item sensors is learnt from its first answer, or
    silence, to the item query while it answers the door query; a board once heard on the
    item query that goes silent on it has gone silent, not lost its sensors."""

    def __init__(self, link: Link, reply_timeout_s: float) -> None:
        super().__init__(link, reply_timeout_s)
        self._item_sensors: dict[int, bool] = {}

    def _bits(self, board: int, sensors: Sensors) -> int:
        query = frames.Query(board, sensors)
        return self._exchange(frames.build_8a80(query), frames.BITMAP_SIZE, board,
                              lambda raw: frames.parse_8a80_reply(raw, query).bits)

    def read(self, board: int, *, items: bool = True) -> Reading:
        with self._lock:
            doors = self._bits(board, Sensors.DOORS)
            if not items or self._item_sensors.get(board) is False:
                return Reading(doors, None)
            try:
                bits = self._bits(board, Sensors.ITEMS)
            except BoardSilent:
                if self._item_sensors.get(board):
                    raise
                try:  # once more before deciding: one lost reply is not a missing sensor
                    bits = self._bits(board, Sensors.ITEMS)
                except BoardSilent:
                    log.info("locker board %d on %s has no item sensors", board,
                             self._link.name)
                    self._item_sensors[board] = False
                    return Reading(doors, None)
            self._item_sensors[board] = True
            return Reading(doors, bits)

    def unlock(self, board: int, lock: int) -> None:
        unlock = frames.Unlock(board, lock)
        released = self._exchange(frames.build_8a80(unlock), frames.RELEASED_SIZE, board,
                                  lambda raw: frames.parse_8a80_reply(raw, unlock).released)
        if not released:
            # Only the board's word: the door sensor decides whether the door opened.
            log.warning("locker board %d on %s says lock %d did not release",
                        board, self._link.name, lock)


class BusKerong(_Exchanges):
    """Kerong-style CU boards: one status request reads doors and items at once."""

    def _ask(self, request: frames.Unlock | frames.AskStatus) -> frames.BoardData:
        return self._exchange(frames.build_kerong(request), frames.KERONG_REPLY_SIZE,
                              request.board, lambda raw: frames.parse_kerong_reply(raw, request))

    def read(self, board: int, *, items: bool = True) -> Reading:
        data = self._ask(frames.AskStatus(board))
        return Reading(data.doors, data.items)

    def unlock(self, board: int, lock: int) -> None:
        self._ask(frames.Unlock(board, lock))
