"""Links over real transports: TCP on loopback, pyserial URLs (socket://, loop://); and
refreshing every device at once."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from devices.fitted import DeviceSet
from devices.links import LinkError, SerialLink, TcpLink
from devices.printer.fake import FakePrinter
from devices.status import DeviceState, DeviceStatus, LinkReason
from tests.echo_device import EchoDevice, frame, parse

pytestmark = pytest.mark.realstack


class TcpEchoPeer:
    """An echo peer on loopback TCP; `silent` stops answers, `hang_up()` drops the client."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.silent = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    head = conn.recv(2)
                    if len(head) < 2:
                        return
                    rest = conn.recv(head[1] + 2)
                except OSError:
                    return
                payload = parse(head + rest)
                if payload is not None and not self.silent.is_set():
                    conn.sendall(frame(payload))

    def hang_up(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError):  # already closed by its server thread
                conn.shutdown(socket.SHUT_RDWR)
        self._conns.clear()

    def close(self) -> None:
        self.hang_up()
        self.server.close()


@pytest.fixture
def tcp_peer() -> Iterator[TcpEchoPeer]:
    peer = TcpEchoPeer()
    yield peer
    peer.close()


def test_tcp_link_exchanges_frames_and_silence_is_a_status(tcp_peer: TcpEchoPeer) -> None:
    device = EchoDevice(TcpLink("127.0.0.1", tcp_peer.port), read_timeout_s=0.3)
    assert device.echo(b"receipt line") == b"receipt line"
    tcp_peer.silent.set()
    assert device.status().reason == LinkReason.NOT_ANSWERING
    tcp_peer.silent.clear()
    assert device.status().state is DeviceState.READY


def test_peer_hanging_up_is_not_connected_then_the_link_reconnects(tcp_peer: TcpEchoPeer) -> None:
    link = TcpLink("127.0.0.1", tcp_peer.port)
    device = EchoDevice(link, read_timeout_s=1.0)
    assert device.echo(b"a") == b"a"
    tcp_peer.hang_up()
    assert device.echo(b"b") is None and not link.is_open
    assert device.status().state is DeviceState.READY  # opened again on the next request


def test_nothing_listening_is_a_link_error_not_a_hang() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(LinkError, match="cannot connect"):
        TcpLink("127.0.0.1", port, connect_timeout_s=1.0).open()
    status = EchoDevice(TcpLink("127.0.0.1", port), read_timeout_s=0.2).status()
    assert status.state is DeviceState.OFFLINE and status.reason == LinkReason.NOT_CONNECTED


def test_serial_link_opens_pyserial_urls(tcp_peer: TcpEchoPeer) -> None:
    over_socket = EchoDevice(SerialLink(f"socket://127.0.0.1:{tcp_peer.port}"))
    assert over_socket.echo(b"via socket://") == b"via socket://"
    loop = SerialLink("loop://")
    loop.open()
    loop.write(b"\x02abc")
    assert loop.read(4, 1.0) == b"\x02abc"
    assert loop.read(1, 0.05) == b""  # nothing more: the deadline ends the read
    loop.close()


def test_refresh_all_asks_every_device_at_once() -> None:
    both = threading.Barrier(2, timeout=2.0)  # passes only if both are asked together

    class Meeting(FakePrinter):
        def status(self) -> DeviceStatus:
            both.wait()
            return super().status()

    devices = DeviceSet.around({"printer": Meeting(), "id_reader": Meeting()},
                               call_timeout_s=5.0)
    try:
        devices.refresh_all()
        assert [w.report().status.state for w in devices] == [DeviceState.READY] * 2
    finally:
        devices.stop()
