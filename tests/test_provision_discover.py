"""`kiosk provision discover` against the real wire peers: a SAM reader and lock boards of
both protocols on ptys, ESC/POS printers on loopback TCP (and through a socket:// serial URL),
USB through the pyusb stand-in backend, a private cupsd. Every device is found on its own port
with its own adapter, silence is said as silence, and no door ever opens: every byte discovery
writes to a port is read back and holds no unlock frame of either board protocol."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

from devices import registry
from devices.id_reader.sam.peer import SamReaderPeer
from devices.links.pty import PtyEnd
from devices.locker.rs485 import frames
from devices.locker.rs485.frames import AskStatus, FrameError, Query, Sensors, Unlock
from devices.locker.rs485.peer import LockerBoardPeer
from devices.printer.escpos.peer import EscposPeer
from provisioning import local_devices, serial_scan
from provisioning.cli import provision_app
from provisioning.discover import DiscoverOptions, discover
from tests.cups_peer import QUEUE, cups

pytestmark = [pytest.mark.realstack, pytest.mark.usefixtures("no_pcscd")]
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = "0.5"
__all__ = ["cups"]  # the fixture


@pytest.fixture
def sam() -> Iterator[SamReaderPeer]:
    peer = SamReaderPeer()
    yield peer
    peer.close()


@pytest.fixture
def boards_8a80() -> Iterator[LockerBoardPeer]:
    peer = LockerBoardPeer("8a80")
    yield peer
    peer.stop()


@pytest.fixture
def boards_kerong() -> Iterator[LockerBoardPeer]:
    peer = LockerBoardPeer("kerong")
    yield peer
    peer.stop()




class SilentPort:
    """A pty nobody answers on, that keeps every byte written to it."""

    def __init__(self) -> None:
        self._pty = PtyEnd()
        self.port = self._pty.port
        self.heard = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            self.heard += self._pty.read(0.02)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._pty.close()


@pytest.fixture
def silent() -> Iterator[SilentPort]:
    port = SilentPort()
    yield port
    port.close()




def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(provision_app, ["discover", *args])
    return result.exit_code, result.output


def findings(*args: str) -> list[dict[str, Any]]:
    code, out = run("--json", "--ports-only", "--timeout", TIMEOUT, *args)
    assert code == 0, out
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def at(rows: list[dict[str, Any]], where: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r["where"] == where]
    return row


def a_profile_takes(row: dict[str, Any]) -> None:
    """The settings are a `[devices.<kind>]` table as it stands."""
    TypeAdapter(registry.config_type(row["kind"])).validate_python(row["settings"])


def doors_never_opened(peer: LockerBoardPeer) -> None:
    assert not peer.unlocks
    assert all(isinstance(r, Query | AskStatus) for r in peer.requests)
    assert all(r.sensors is Sensors.DOORS for r in peer.requests if isinstance(r, Query))
    assert not any(peer.is_open(n) for n in range(1, 25))


@pytest.mark.slow  # a silent port is asked in every protocol
def test_each_peer_is_found_on_its_own_port_with_its_adapter(
        sam: SamReaderPeer, boards_8a80: LockerBoardPeer, boards_kerong: LockerBoardPeer,
        printer: EscposPeer, silent: SilentPort) -> None:
    nothing = free_port()
    rows = findings("--ports", sam.port, "--ports", f"{boards_8a80.port},{boards_kerong.port}",
                    "--ports", silent.port, "--hosts", f"127.0.0.1:{printer.port}",
                    "--hosts", f"127.0.0.1:{nothing}")
    assert at(rows, sam.port)["settings"] == {
        "adapter": "sam_serial", "port": sam.port, "baudrate": 115200}
    assert at(rows, sam.port)["kind"] == "id_reader"
    assert at(rows, boards_8a80.port)["settings"] == {
        "adapter": "rs485_8a80", "port": boards_8a80.port, "baudrate": 9600}
    assert at(rows, boards_kerong.port)["settings"] == {
        "adapter": "rs485_kerong", "port": boards_kerong.port, "baudrate": 19200}
    net = at(rows, f"127.0.0.1:{printer.port}")
    assert net["settings"] == {"adapter": "escpos_network", "host": "127.0.0.1",
                               "tcp_port": printer.port}
    assert "status ready" in net["detail"]
    for row in rows:
        if row["adapter"] is not None:
            a_profile_takes(row)
    quiet = at(rows, silent.port)
    assert quiet["adapter"] is None and quiet["detail"].startswith("no answer")
    assert not [r for r in rows if str(nothing) in r["where"]]  # nothing listens: not reported
    doors_never_opened(boards_8a80)
    doors_never_opened(boards_kerong)
    assert sam.requests == [(0x12, 0xFF)]  # the SAM id, never a card


def unlocks_in(stream: bytes) -> list[Unlock]:
    """Every unlock frame of either protocol, at any offset of `stream`."""
    found = []
    for i in range(len(stream)):
        for size, parse in ((frames.REQUEST_SIZE_8A80, frames.parse_8a80_request),
                            (frames.KERONG_REQUEST_SIZE[frames.UNLOCK],
                             frames.parse_kerong_request)):
            try:
                request = parse(stream[i:i + size])
            except (FrameError, IndexError):
                continue
            if isinstance(request, Unlock):
                found.append(request)
    return found


def test_no_byte_discovery_writes_to_a_port_makes_an_unlock_frame(silent: SilentPort) -> None:
    assert unlocks_in(b"\x00" + frames.build_8a80(Unlock(1, 1))) == [Unlock(1, 1)]  # it sees one
    assert unlocks_in(frames.build_kerong(Unlock(0, 3)) + b"\x03") == [Unlock(0, 3)]
    before = len(silent.heard)
    row = serial_scan.probe_port(silent.port, 0.05, boards=16)
    assert row.adapter is None and row.detail.startswith("no answer")
    heard = bytes(silent.heard[before:])
    # Everything was asked: the printer's status, the SAM id, both boards' door queries ...
    assert b"\x10\x04\x01" in heard and bytes.fromhex("aaaaaa96690003") in heard
    assert frames.build_8a80(Query(16, Sensors.DOORS)) in heard
    assert frames.build_kerong(AskStatus(15)) in heard
    assert unlocks_in(heard) == []  # ... and nothing, at any offset, opens a door


def test_boards_at_other_addresses_are_listed_as_compartments() -> None:
    peer = LockerBoardPeer("8a80", {2: 24, 3: 12})
    try:
        rows = findings("--ports", peer.port)
    finally:
        peer.stop()
    row = at(rows, peer.port)
    assert "boards 2, 3" in row["detail"]
    compartments = row["settings"]["compartments"]
    assert [(c["board"], c["lock"]) for c in compartments][22:26] == [
        (2, 23), (2, 24), (3, 1), (3, 2)]
    a_profile_takes(row)
    doors_never_opened(peer)


def test_a_serial_escpos_printer_answers_its_status_and_prints_nothing(
        printer: EscposPeer) -> None:
    printer.set(paper="near_end")
    url = f"socket://127.0.0.1:{printer.port}"
    row = at(findings("--ports", url), url)
    assert row["settings"] == {"adapter": "escpos_serial", "port": url, "baudrate": 19200}
    assert "degraded" in row["detail"] and "nearly empty" in row["detail"]
    # Asked first, it heard only DLE EOT and ESC @: nothing of the other protocols to print.
    assert printer.status_requests == 4 and not printer.receipts and not printer.unknown


def test_a_subnet_is_asked_at_once_and_only_printers_are_reported() -> None:
    peer = EscposPeer(host="127.0.0.57")
    try:
        started = time.monotonic()
        rows = findings("--subnet", "127.0.0.0/24", "--printer-port", str(peer.port))
        took = time.monotonic() - started
    finally:
        peer.close()
    printers = [r for r in rows if r["kind"] == "printer" and r["adapter"]]
    assert [p["settings"]["host"] for p in printers] == ["127.0.0.57"]
    assert took < 15  # 254 hosts: at one at a time this is minutes on a slow connect
    started = time.monotonic()
    rows = findings("--subnet", "192.0.2.0/24", "--timeout", "0.5")  # TEST-NET-1: nobody
    assert time.monotonic() - started < 10
    assert not [r for r in rows if r["where"].startswith("192.0.2.")]


def test_usage_errors_exit_2_with_one_line() -> None:
    code, out = run("--subnet", "10.0.0.0/8")
    assert code == 2 and "at most 4096" in out and len(out.strip().splitlines()) == 1
    code, out = run("--subnet", "not-a-net")
    assert code == 2 and "--subnet" in out
    code, out = run("--timeout", "0")
    assert code == 2 and "--timeout" in out


def test_pcscd_not_running_is_a_note_and_readers_it_lists_are_found(
        monkeypatch: pytest.MonkeyPatch) -> None:
    (row,) = local_devices.pcsc_readers()
    assert row.adapter is None and row.detail.startswith("pcscd not running")
    import smartcard.System

    monkeypatch.setattr(smartcard.System, "readers", lambda: ["ACS ACR1252 1S CL Reader 00 00"])
    (row,) = local_devices.pcsc_readers()
    assert row.settings == {"adapter": "pcsc", "reader": "ACS ACR1252 1S CL Reader 00 00"}


def test_a_usb_receipt_printer_is_found_by_its_printer_class(printer: EscposPeer) -> None:
    from tests.usb_printer_backend import UsbPrinterBackend

    backend = UsbPrinterBackend(printer, vendor=0x1FC9, product=0x2016)  # no maker we know
    try:
        (row,) = [f for f in discover(DiscoverOptions(listed_ports=False, usb_backend=backend))
                  if f.adapter == "escpos_usb"]
    finally:
        backend.unplug()
    assert row.settings == {"adapter": "escpos_usb", "usb_vendor": 0x1FC9, "usb_product": 0x2016}
    assert "printer-class" in row.detail
    assert not printer.status_requests  # listed, not driven: its binding test asks it


def test_no_usb_library_is_a_clear_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    def no_library(**_: Any) -> None:
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", no_library)
    (row,) = local_devices.usb_printers()
    assert row.adapter is None and "libusb-1.0" in row.detail


def test_cameras_none_found_and_a_node_that_gives_frames(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    (row,) = local_devices.cameras(tmp_path)
    assert (row.adapter, row.detail) == (None, "none found")
    video = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    for shade in range(3):
        writer.write(np.full((48, 64, 3), shade * 60, np.uint8))
    writer.release()
    video.rename(tmp_path / "video0")  # a video file standing in for /dev/video0
    (tmp_path / "video1").write_bytes(b"")  # a node that gives no frames
    rows = local_devices.cameras(tmp_path)
    assert [(r.adapter, r.where) for r in rows] == [
        ("opencv", str(tmp_path / "video0")), (None, str(tmp_path / "video1"))]
    assert rows[0].detail == "camera, 64x48 frames"


def test_cups_queues_of_a_server_and_no_cupsd(cups: Any, tmp_path: Path) -> None:
    rows = findings("--cups-server", cups.socket)
    (row,) = [r for r in rows if r["kind"] == "certificate_printer"]
    assert row["settings"] == {"adapter": "cups", "queue": QUEUE, "server": cups.socket}
    a_profile_takes(row)
    (row,) = local_devices.cups_queues(str(tmp_path / "no-cupsd.sock"))
    assert row.adapter is None and "no cupsd answers" in row.detail


def test_nothing_found_exits_0_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    # This machine's USB and cameras are other tests' subject: none here, whatever it has.
    monkeypatch.setattr(local_devices, "usb_printers", lambda backend=None: [])
    monkeypatch.setattr(local_devices, "cameras", lambda: [])
    code, out = run("--ports-only", "--cups-server", str(tmp_path / "none.sock"))
    assert code == 0
    assert "Nothing found" in out and "pcscd not running" in out


def test_the_kiosk_command_discovers_as_a_script_would(sam: SamReaderPeer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "provision", "discover", "--json", "--ports-only",
         "--ports", sam.port, "--timeout", TIMEOUT], capture_output=True, text=True,
        timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    row = at(json.loads(result.stdout), sam.port)
    assert (row["kind"], row["adapter"]) == ("id_reader", "sam_serial")
