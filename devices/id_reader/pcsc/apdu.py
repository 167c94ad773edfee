"""Command APDUs and what T=0 cards make of them: `61 xx` (more data: GET RESPONSE) and
`6C xx` (wrong Le: send again with xx). Many UnionPay chips speak only T=0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Transmit = Callable[[list[int]], tuple[list[int], int, int]]  # pyscard's shape
MAX_CHAINED = 32  # GET RESPONSE rounds before the card is taken to be misbehaving


class CardError(Exception):
    """The card answered in a way no well-behaved card does (not a status word: those are
    returned to the caller)."""


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000


def command(cla: int, ins: int, p1: int, p2: int, data: bytes = b"",
            le: int | None = None) -> list[int]:
    apdu = [cla, ins, p1, p2]
    if data:
        apdu += [len(data), *data]
    if le is not None:
        apdu.append(le & 0xFF)
    return apdu


def select_by_name(name: bytes, p2: int = 0x00) -> list[int]:
    """SELECT by AID; p2 0C asks for no FCI (and so takes no Le)."""
    return command(0x00, 0xA4, 0x04, p2, name, None if p2 == 0x0C else 0x00)


def _with_le(apdu: list[int], le: int) -> list[int]:
    if len(apdu) > 5:  # CLA INS P1 P2 Lc data [Le]
        return [*apdu[:5 + apdu[4]], le]
    return [*apdu[:4], le]


def exchange(transmit: Transmit, apdu: list[int]) -> Response:
    """Send one command and follow the card's 61xx/6Cxx until it gives its answer."""
    data, sw1, sw2 = transmit(apdu)
    if sw1 == 0x6C:  # wrong length: the card says how many bytes to ask for
        data, sw1, sw2 = transmit(_with_le(apdu, sw2))
    out = bytes(data)
    rounds = 0
    while sw1 == 0x61:  # more data waiting
        rounds += 1
        if rounds > MAX_CHAINED:
            raise CardError("the card keeps answering 61xx")
        data, sw1, sw2 = transmit(command(0x00, 0xC0, 0x00, 0x00, le=sw2))
        out += bytes(data)
    return Response(out, (sw1 << 8) | sw2)
