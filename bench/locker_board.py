"""A locker door through the RS-485 adapter to its wire peer on a pty at 9600 baud (8A/80
boards): the unlock sent once, then the door sensor read until it shows the door open; next to
the floor that the line and the board set (the unlock on the line, the board's reaction, which
runs while it echoes, then one door query and its bitmap, at 10 bits a byte). And the full-bus
poll, door_states() of 48 compartments on two boards of 24 (each board's door and item
bitmaps), next to those frames' time on the line. The floors are computed, not measured:
nothing can be faster than the wire.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

REACTION_S = 0.05  # how long the peer's door takes to spring open after the unlock
BOARDS = {1: 24, 2: 24}


def measure(runs: int) -> dict[str, float]:
    from devices.config import BuildContext
    from devices.locker.protocol import DoorOutcome
    from devices.locker.rs485 import frames
    from devices.locker.rs485.board import Rs485Locker
    from devices.locker.rs485.config import Compartment, Rs485_8a80Config
    from devices.locker.rs485.peer import LockerBoardPeer

    peer = LockerBoardPeer("8a80", BOARDS, reaction_s=REACTION_S, baudrate=9600)
    places = [(board, lock) for board, locks in BOARDS.items() for lock in range(1, locks + 1)]
    layout = tuple(Compartment(number=n, board=b, lock=lock, label=f"{n:02d}",
                               column=(n - 1) // 8 + 1, row=(n - 1) % 8 + 1)
                   for n, (b, lock) in enumerate(places, start=1))
    config = Rs485_8a80Config(port=peer.port, compartments=layout)
    byte_s = 10 / config.baudrate
    open_floor_s = REACTION_S + byte_s * (
        frames.REQUEST_SIZE_8A80  # the unlock; the door springs while the board echoes it
        + frames.REQUEST_SIZE_8A80 + frames.BITMAP_SIZE)  # one door query that sees it open
    poll_wire_s = byte_s * len(BOARDS) * 2 * (frames.REQUEST_SIZE_8A80 + frames.BITMAP_SIZE)
    opens, polls, exchanges = [], [], []
    try:
        locker = Rs485Locker.from_config(config, BuildContext(Path(tempfile.gettempdir())))
        assert locker.status().usable
        locker.door_states()  # warm: the boards' item sensors are learnt
        for i in range(runs):
            door = 1 + i % len(layout)
            asked = len(peer.requests)
            start = time.perf_counter()
            assert locker.open_door(door) is DoorOutcome.OPENED
            opens.append(time.perf_counter() - start)
            exchanges.append(len(peer.requests) - asked)
            peer.close(door)
            start = time.perf_counter()
            states = locker.door_states()
            polls.append(time.perf_counter() - start)
            assert len(states) == len(layout) and None not in states.values()
    finally:
        peer.stop()
    return {"open_confirmed_s": statistics.median(opens), "open_floor_s": open_floor_s,
            "open_exchanges": statistics.median(exchanges),
            "poll_48_s": statistics.median(polls), "poll_48_wire_s": poll_wire_s}
