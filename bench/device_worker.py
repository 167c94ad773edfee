"""What a DeviceWorker costs: echo exchanges over a real pty, through the worker (a queue hop
and a thread switch each way) against the same adapter called directly on the same link."""

from __future__ import annotations

import statistics
import time

from devices.links import SerialLink
from devices.worker import DeviceWorker
from tests.echo_device import EchoDevice, EchoPeer

PAYLOAD = b"x" * 32


def _rate(call: object, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        assert call() == PAYLOAD  # type: ignore[operator]
    return n / (time.perf_counter() - start)


def measure(runs: int, exchanges: int) -> dict[str, float]:
    peer = EchoPeer()
    device = EchoDevice(SerialLink(peer.port, baudrate=115200))
    worker = DeviceWorker("echo", "printer", device)
    try:
        direct, through = [], []
        for _ in range(runs):  # interleaved: A B A B ...
            direct.append(_rate(lambda: device.echo(PAYLOAD), exchanges))
            through.append(_rate(lambda: worker.call(lambda d: d.echo(PAYLOAD), None).value,
                                 exchanges))
    finally:
        worker.stop()
        peer.close()
    d, w = statistics.median(direct), statistics.median(through)
    return {"direct_per_s": d, "worker_per_s": w, "ratio": w / d,
            "direct_range": (min(direct), max(direct)), "worker_range": (min(through),
                                                                          max(through))}
