"""A resident ID read through the production SAM adapter against its wire peer at 115200
baud, next to the least it can take: the line time of the bytes exchanged plus the card's own
delay (issue 6 asks for at most 1.5 times that)."""

from __future__ import annotations

import statistics
import time

from devices.id_reader.sam import frames
from devices.id_reader.sam.peer import SamCard, SamReaderPeer
from devices.id_reader.sam.reader import ResidentIdSamReader
from devices.id_reader.simulator import DEMO_CITIZENS
from devices.links import SerialLink

BAUD = 115200
CARD_DELAY_S = 0.1


def wire_bytes(card: SamCard) -> int:
    """Every byte of one read: find, select, read, each request and reply."""
    requests = 3 * len(frames.build_request(frames.FIND_CARD))
    replies = (len(frames.build_reply(frames.Sw3.CARD_FOUND, bytes(4)))
               + len(frames.build_reply(frames.Sw3.OK, bytes(8)))
               + len(frames.build_reply(frames.Sw3.OK,
                                        frames.build_text_and_photo(card.text, card.photo))))
    return requests + replies


def measure(runs: int) -> dict[str, float]:
    peer = SamReaderPeer(card_delay_s=CARD_DELAY_S, baudrate=BAUD)
    reader = ResidentIdSamReader(SerialLink(peer.port, baudrate=BAUD), read_timeout_s=5.0)
    card = SamCard.of(DEMO_CITIZENS[0])
    times = []
    try:
        for _ in range(runs):
            peer.remove()
            reader.read()  # an empty reader: the next card is a new presentation
            peer.insert(card)
            start = time.perf_counter()
            assert reader.read().ok
            times.append(time.perf_counter() - start)
    finally:
        peer.close()
    floor = wire_bytes(card) * 10 / BAUD + CARD_DELAY_S
    read = statistics.median(times)
    return {"read_s": read, "floor_s": floor, "ratio": read / floor,
            "range_s": (min(times), max(times))}
