"""DeviceWorker over a real link: a framed echo device on a pty pair (tests/echo_device.py).

Concurrent callers never interleave frames, a silent peer turns the device offline within the
worker's deadline and it recovers when the peer speaks again, and nothing queues behind a
hung call.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.links import SerialLink
from devices.status import DeviceState, LinkReason
from devices.worker import CallProblem, DeviceWorker
from tests.echo_device import EchoDevice, EchoPeer, frame
from tests.waits import wait_until

pytestmark = pytest.mark.realstack


@pytest.fixture
def peer() -> Iterator[EchoPeer]:
    p = EchoPeer()
    yield p
    p.close()




def echo_worker(peer: EchoPeer, *, read_timeout_s: float = 2.0,
                call_timeout_s: float = 1.0) -> DeviceWorker[EchoDevice]:
    device = EchoDevice(SerialLink(peer.port, baudrate=115200), read_timeout_s=read_timeout_s)
    return DeviceWorker("echo", "printer", device, call_timeout_s=call_timeout_s)


def test_concurrent_callers_never_interleave_frames(peer: EchoPeer) -> None:
    worker = echo_worker(peer)
    answers: dict[int, list[bytes | None]] = {}

    def caller(n: int) -> None:
        mine = answers.setdefault(n, [])
        for i in range(40):
            payload = f"caller {n} frame {i} ".encode() * 3
            mine.append(worker.call(lambda d, p=payload: d.echo(p), None).value)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        for n, got in answers.items():
            assert got == [f"caller {n} frame {i} ".encode() * 3 for i in range(40)]
        assert peer.bad_frames == 0 and peer.frames == 160
    finally:
        worker.stop()


def test_the_interleaving_check_sees_interleaved_frames(peer: EchoPeer) -> None:
    """What two unserialised writers produce on one line: the peer counts it as bad."""
    link = SerialLink(peer.port, baudrate=115200)
    link.open()
    a, b = frame(b"first caller's frame"), frame(b"second")
    link.write(a[:7] + b + a[7:])
    wait_until(lambda: peer.bad_frames > 0)
    link.close()


def test_silent_peer_turns_the_device_offline_within_the_deadline_and_it_recovers(
    peer: EchoPeer,
) -> None:
    worker = echo_worker(peer, read_timeout_s=2.0, call_timeout_s=0.3)
    try:
        assert worker.refresh().status.state is DeviceState.READY
        peer.silent.set()
        started = time.monotonic()
        called = worker.call(lambda d: d.echo(b"hello"), None)
        assert called.problem is CallProblem.TIMEOUT and called.value is None
        assert time.monotonic() - started < 1.5  # the worker's deadline, not the read's
        report = worker.report()
        assert report.status.state is DeviceState.OFFLINE
        assert report.status.reason == LinkReason.NOT_ANSWERING
        assert report.since >= started - 0.01
        # While the read is stuck nothing queues behind it: answered at once, not run later.
        again = time.monotonic()
        assert worker.call(lambda d: d.echo(b"x"), None).problem is CallProblem.STILL_HUNG
        assert time.monotonic() - again < 0.1
        wait_until(lambda: peer.frames == 2)  # the first ping, and "hello" (not answered)
        frames_while_hung = peer.frames
        peer.silent.clear()  # the peer speaks again
        wait_until(lambda: worker.report().status.state is DeviceState.READY)
        assert worker.call(lambda d: d.echo(b"back"), None).value == b"back"
        # the call refused while hung was never sent late: only the recovery ping and "back"
        assert peer.frames == frames_while_hung + 2
    finally:
        worker.stop()


def test_adapter_read_deadline_makes_silence_a_status_not_a_hang(peer: EchoPeer) -> None:
    worker = echo_worker(peer, read_timeout_s=0.2, call_timeout_s=2.0)
    try:
        peer.silent.set()
        report = worker.refresh()
        assert report.status.state is DeviceState.OFFLINE
        assert report.status.reason == LinkReason.NOT_ANSWERING
        peer.silent.clear()
        assert worker.refresh().status.state is DeviceState.READY
    finally:
        worker.stop()


def test_unplugged_port_is_not_connected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    device = EchoDevice(SerialLink(str(tmp_path / "ttyUSB9")), read_timeout_s=0.2)
    worker = DeviceWorker("echo", "printer", device, call_timeout_s=1.0)
    try:
        status = worker.refresh().status
        assert status.state is DeviceState.OFFLINE and status.reason == LinkReason.NOT_CONNECTED
    finally:
        worker.stop()


class Releasable:
    """A device that can be let go of, whose one call may hang until told."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.go_on = threading.Event()

    def status(self) -> object:
        from devices.status import DeviceStatus

        return DeviceStatus.ready()

    def hang(self) -> None:
        self.go_on.wait(10)

    def release(self) -> None:
        self.closed.set()


def test_a_stopped_worker_lets_go_of_its_device_but_never_under_a_hung_call() -> None:
    quiet = Releasable()
    worker = DeviceWorker("printer", "printer", quiet, call_timeout_s=0.2)
    worker.start()
    assert worker.stop() and quiet.closed.is_set()  # the port is free for the next owner

    stuck = Releasable()
    worker = DeviceWorker("printer", "printer", stuck, call_timeout_s=0.2)
    worker.call(lambda d: d.hang(), None)  # given up on: still running on the worker
    assert not worker.stop(timeout_s=0.2) and not stuck.closed.is_set()
    stuck.go_on.set()



def test_a_stopped_locker_fake_is_not_asked_to_close_a_door(
        caplog: pytest.LogCaptureFixture) -> None:
    """Its close(door) is the citizen's hand on a door, not a port to let go of."""
    from devices.locker.fake import FakeLocker

    locker = FakeLocker()
    worker = DeviceWorker("locker", "locker", locker, call_timeout_s=0.2)
    worker.start()
    assert worker.stop()
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def fds_on(path: str) -> int:
    """How many of this process's file descriptors are open on `path` (a pty's device)."""
    real = Path(path).resolve()
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += fd.resolve() == real
    return count


@pytest.mark.parametrize("kind", ["id_reader", "locker"])
def test_a_stopped_worker_closes_its_serial_adapter_s_port(kind: str) -> None:
    """The SAM reader and the RS-485 locker, each behind its worker, on its wire peer's pty:
    the port is open while the worker runs and its descriptor is gone after stop (the peer
    keeps one of its own on the pty's far end)."""
    from devices import registry
    from devices.config import BuildContext
    from devices.id_reader.sam.config import SamSerialConfig
    from devices.id_reader.sam.peer import SamReaderPeer
    from devices.locker.rs485.config import Rs485_8a80Config
    from devices.locker.rs485.peer import LockerBoardPeer

    peer: Any = SamReaderPeer() if kind == "id_reader" else LockerBoardPeer("8a80", {1: 24})
    try:
        config: Any = SamSerialConfig(port=peer.port) if kind == "id_reader" else \
            Rs485_8a80Config(port=peer.port, doors=24)
        build = registry.adapter_of(kind, config).build
        assert build is not None
        peers_own = fds_on(peer.port)
        worker = DeviceWorker(kind, kind, build(config, BuildContext(Path("/nonexistent"))),
                              call_timeout_s=2.0)
        worker.start()
        assert worker.refresh().status.usable  # it has spoken to the peer over the port
        assert fds_on(peer.port) == peers_own + 1
        assert worker.stop()
        assert fds_on(peer.port) == peers_own
    finally:
        peer.close() if kind == "id_reader" else peer.stop()
