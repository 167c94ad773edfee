"""A passport read over PC/SC: BAC + DG1, and DG2 with a 15 KB face, through the real pcscd
and the production code, next to the same chip answered in process (no pcscd, no socket):
the difference is what pcscd and vpcd cost. Issue 6 asks BAC + DG1 <= 100 ms, DG2 <= 300 ms."""

from __future__ import annotations

import statistics
import time
from typing import Any

from devices.id_reader.pcsc.cards.passport import VirtualPassport, td3
from devices.id_reader.pcsc.icao9303 import bac
from devices.id_reader.pcsc.icao9303.mrz import MrzKey
from devices.id_reader.pcsc.icao9303.passport import EF_COM, EF_DG1, EF_DG2, read_file

MRZ = td3("ERIKSSON", "ANNA MARIA", "L898902C", "UTO", "690806", "F", "340623")
KEY = MrzKey.parse("L898902C/690806/340623")
FACE = b"\xff\xd8\xff\xe0" + bytes(15 * 1024) + b"\xff\xd9"


def _timed(transmit: Any) -> tuple[float, float]:
    start = time.perf_counter()
    keys = bac.establish(transmit, KEY)
    read_file(transmit, keys, EF_COM)
    read_file(transmit, keys, EF_DG1)
    bac_dg1 = time.perf_counter() - start
    start = time.perf_counter()
    read_file(transmit, keys, EF_DG2)
    return bac_dg1, time.perf_counter() - start


def measure(runs: int) -> dict[str, float]:
    from smartcard.CardConnection import CardConnection
    from smartcard.System import readers

    from kiosk.demo.pcscd import pcscd, seen_empty
    from tests.waits import wait_until

    direct_card = VirtualPassport(MRZ, FACE)

    def direct(apdu: list[int]) -> tuple[list[int], int, int]:
        answer = direct_card.respond(bytes(apdu))
        return list(answer[:-2]), answer[-2], answer[-1]

    through: list[tuple[float, float]] = []
    inproc: list[tuple[float, float]] = []
    with pcscd():
        reader = next(r for r in readers() if "Virtual PCD 00 00" in str(r))
        wait_until(lambda: seen_empty(str(reader)), 10, "an empty reader")
        card = VirtualPassport(MRZ, FACE)
        card.insert()
        try:
            connection = reader.createConnection()
            wait_until(lambda: _connects(connection, CardConnection), 10, "the passport")
            for _ in range(runs):  # interleaved: through pcscd, then in process
                through.append(_timed(connection.transmit))
                inproc.append(_timed(direct))
            connection.disconnect()
            connection.release()  # its pcscd context, before pcscd stops
        finally:
            card.remove()
    med = lambda xs: statistics.median(xs)  # noqa: E731
    return {"bac_dg1_s": med([t[0] for t in through]), "dg2_s": med([t[1] for t in through]),
            "bac_dg1_inproc_s": med([t[0] for t in inproc]),
            "dg2_inproc_s": med([t[1] for t in inproc])}


def _connects(connection: Any, cc: Any) -> bool:
    try:
        connection.connect(cc.T0_protocol | cc.T1_protocol)
    except Exception:
        return False
    return True
