"""The ESC/POS receipt adapter (`escpos_network`) against its wire peer on loopback TCP: what
printed is what the peer decoded from the stream (text from GB18030, QR payloads, cuts), and
the printer's real-time status (DLE EOT) decides: paper near its end, paper out before and in
the middle of a job, cover open, a silent printer, garbage for an answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.links import TcpLink
from devices.printer.escpos.config import EscposNetworkConfig
from devices.printer.escpos.peer import EscposPeer, _Decoder
from devices.printer.escpos.printer import EscposPrinter
from devices.printer.escpos.status import PrinterState, StatusUnreadable, well_formed
from devices.printer.protocol import PrintFailure, Receipt
from devices.status import DeviceState, LinkReason

pytestmark = pytest.mark.realstack

RECEIPT = Receipt("办件回执", ("事项：户籍证明", "办件编号：SH-PD-0001-20261201-AB12CD34",
                               "申请人：张*  310115********0024"),
                  "https://gov.example/track/AB12CD34", "请妥善保管 Keep this receipt")


@pytest.fixture
def peer() -> Iterator[EscposPeer]:
    running = EscposPeer()
    yield running
    running.close()


def printer_on(peer: EscposPeer, model: str = "default") -> EscposPrinter:
    return EscposPrinter(TcpLink(peer.host, peer.port), model=model, reply_timeout_s=0.3)


def test_a_receipt_prints_in_chinese_with_its_qr_code_and_a_cut(peer: EscposPeer) -> None:
    result = printer_on(peer).print_receipt(RECEIPT)
    assert result.ok, result.detail
    (printed,) = peer.receipts
    assert printed.cut and peer.unknown == []
    assert printed.text[0] == "办件回执" and printed.lines[0].align == "center"
    assert printed.lines[0].bold and printed.lines[0].large
    assert "办件编号：SH-PD-0001-20261201-AB12CD34" in printed.text
    assert "请妥善保管 Keep this receipt" in printed.text
    assert printed.native_qr == ["https://gov.example/track/AB12CD34"]


def test_a_model_without_native_qr_prints_the_code_as_an_image(peer: EscposPeer) -> None:
    printer = printer_on(peer, model="TH230")
    assert not printer.native_qr
    assert printer.print_receipt(RECEIPT).ok
    (printed,) = peer.receipts
    assert printed.native_qr == [] and len(printed.images) == 1
    assert printed.qr_codes == ["https://gov.example/track/AB12CD34"]  # decoded from pixels


def _logo_png() -> bytes:
    """A 600x200 logo: a black bar on the left half, transparent elsewhere."""
    import io

    from PIL import Image

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 300, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_logo_prints_at_the_top_as_a_raster_image_that_fits_the_paper(
        peer: EscposPeer) -> None:
    from dataclasses import replace

    assert printer_on(peer).print_receipt(replace(RECEIPT, logo=_logo_png())).ok
    (printed,) = peer.receipts
    kind, logo = printed.parts[0]
    assert kind == "image" and logo.shape[1] <= 384  # scaled to a 58 mm head
    left, right = logo[:, : logo.shape[1] // 2], logo[:, logo.shape[1] // 2 + 4:]
    assert (left == 0).mean() > 0.9 and (right == 255).all()  # black bar, paper elsewhere
    assert printed.text[0] == "办件回执"


def test_a_logo_that_cannot_be_read_is_left_out_not_the_receipt(peer: EscposPeer) -> None:
    from dataclasses import replace

    assert printer_on(peer).print_receipt(replace(RECEIPT, logo=b"not an image")).ok
    (printed,) = peer.receipts
    assert printed.images == [] and printed.text[0] == "办件回执"


def test_paper_near_its_end_is_degraded_and_still_prints(peer: EscposPeer) -> None:
    peer.set(paper="near_end")
    printer = printer_on(peer)
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.DEGRADED, "paper_low")
    assert printer.print_receipt(RECEIPT).ok and len(peer.receipts) == 1


def test_paper_out_before_a_job_prints_nothing_then_or_later(peer: EscposPeer) -> None:
    peer.set(paper="out")
    printer = printer_on(peer)
    assert (printer.status().state, printer.status().reason) == (DeviceState.FAULT, "paper_out")
    result = printer.print_receipt(RECEIPT)
    assert result.failure is PrintFailure.PAPER_OUT
    peer.set(paper="ok")  # paper replaced: nothing was sent, nothing comes out
    assert printer.status().state is DeviceState.READY
    assert peer.receipts == []


def test_paper_out_in_the_middle_of_a_job_is_never_printed_for_the_next_citizen(
        peer: EscposPeer) -> None:
    peer.set(paper_left_lines=2)
    printer = printer_on(peer)
    result = printer.print_receipt(RECEIPT)
    assert result.failure is PrintFailure.PAPER_OUT and "interrupted" in result.detail
    peer.set(paper="ok", paper_left_lines=None)  # paper replaced
    assert peer.receipts == []  # the adapter cleared what the printer held
    assert printer.print_receipt(Receipt("下一位", ("another citizen",))).ok
    assert [r.text[0] for r in peer.receipts] == ["下一位"]


def test_the_peer_prints_a_held_backlog_when_the_host_does_not_clear_it(
        peer: EscposPeer) -> None:
    """The plague the adapter avoids is real in the peer: held data comes out later."""
    peer.set(paper="out")
    job = printer_on(peer).job(RECEIPT)
    with socket.create_connection((peer.host, peer.port)) as raw:
        raw.sendall(job)
        raw.sendall(b"\x10\x04\x01")  # a status request: everything before it was taken
        assert raw.recv(1)
    assert peer.receipts == []
    peer.set(paper="ok")
    assert [r.text[0] for r in peer.receipts] == ["办件回执"]


def test_cover_open_is_a_fault_with_its_reason(peer: EscposPeer) -> None:
    peer.set(cover_open=True)
    printer = printer_on(peer)
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.FAULT, "cover_open")
    assert printer.print_receipt(RECEIPT).failure is PrintFailure.COVER_OPEN
    assert peer.receipts == []


def test_a_silent_printer_is_offline_not_paper_ok(peer: EscposPeer) -> None:
    peer.set(silent=True)
    printer = printer_on(peer)
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert "no answer to DLE EOT 1" in status.message
    assert printer.print_receipt(RECEIPT).failure is PrintFailure.OFFLINE
    assert peer.receipts == []


def test_a_printer_answering_garbage_is_not_believed() -> None:
    server = socket.create_server(("127.0.0.1", 0))

    def answer_garbage() -> None:
        conn, _ = server.accept()
        with conn:
            while conn.recv(3):
                conn.sendall(b"\xff")  # no fixed bits: not a status answer

    threading.Thread(target=answer_garbage, daemon=True).start()
    try:
        status = EscposPrinter(TcpLink(*server.getsockname()[:2]), reply_timeout_s=0.3).status()
    finally:
        server.close()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert "not a status answer" in status.message


def test_a_printer_that_is_not_there_is_not_connected() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    status = EscposPrinter(TcpLink("127.0.0.1", port, connect_timeout_s=0.5)).status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)


def test_the_profile_model_is_checked() -> None:
    assert EscposNetworkConfig(host="p", model="TM-T88V").model == "TM-T88V"
    with pytest.raises(ValueError, match="unknown printer model 'TM-X'"):
        EscposNetworkConfig(host="p", model="TM-X")


@given(st.binary(min_size=4, max_size=4))
def test_any_four_answers_are_a_state_or_unreadable(answers: bytes) -> None:
    try:
        PrinterState.parse(answers)
    except StatusUnreadable:
        assert not all(well_formed(a) for a in answers)
    else:
        assert all(well_formed(a) for a in answers)


@given(st.binary(max_size=600))
def test_the_peer_decodes_any_bytes_without_crashing(data: bytes) -> None:
    class Sink:
        def __init__(self) -> None:
            self.unknown: list[bytes] = []
            self.setting = type("S", (), {"can_print": True})()

        def use_paper_line(self) -> bool:
            return True

        def finished(self, receipt: object) -> None:
            pass

        def reply(self, answer: int) -> None:
            pass

        def sensor_answer(self) -> int:
            return 0

    decoder = _Decoder(Sink())  # type: ignore[arg-type]
    used = decoder.feed(data)
    assert 0 <= used <= len(data)


def test_print_test_prints_chinese_and_a_qr_code_or_says_why_not(
        peer: EscposPeer, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    shipped = (root / "kiosk/config/profiles/gov-hall.toml").read_text()
    profile = tmp_path / "hall.toml"
    profile.write_text(shipped.replace('host = "receipt-printer"',
                                       f'host = "127.0.0.1"\ntcp_port = {peer.port}'))

    def print_test(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kiosk.cli", "device", "print-test",
                               "--config", str(profile), *extra],
                              capture_output=True, text=True, timeout=60, cwd=root)

    done = print_test()
    assert done.returncode == 0, done.stderr
    (printed,) = peer.receipts
    assert printed.text[0] == "打印测试 Print test" and "中文 GB18030 汉字测试" in printed.text
    assert printed.qr_codes[0].startswith("KIOSK-PRINT-TEST SH-PD-0001")
    peer.set(paper="out")
    done = print_test()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["print test: paper_out: the receipt roll is empty"]
    peer.set(paper="ok", silent=True)
    answer = json.loads(print_test("--json").stdout)
    assert answer["ok"] is False and answer["failure"] == "offline"
    assert "no answer to DLE EOT" in answer["detail"]


def test_the_peer_draws_each_receipt_with_its_qr_code_in_place(tmp_path: Path) -> None:
    import cv2
    import zxingcpp

    drawing = EscposPeer(png_dir=tmp_path)
    try:
        assert printer_on(drawing).print_receipt(RECEIPT).ok
    finally:
        drawing.close()
    (png,) = tmp_path.glob("receipt-*.png")
    paper = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert paper.shape[1] == 576  # 80 mm at 203 dpi
    (code,) = zxingcpp.read_barcodes(paper)
    assert code.text == "https://gov.example/track/AB12CD34"
    footer_y = paper.shape[0] - 60
    assert code.position.top_left.y < footer_y  # drawn before the footer, where it printed


def test_a_serial_printer_prints_the_same_way(peer: EscposPeer, tmp_path: Path) -> None:
    """`escpos_serial`, built from its profile keys, on pyserial's socket:// URL to the peer
    (where a real one would be /dev/ttyS0 at its baud rate)."""
    from devices.config import BuildContext
    from devices.printer.escpos.config import EscposSerialConfig

    config = EscposSerialConfig(port=f"socket://{peer.host}:{peer.port}", baudrate=19200)
    printer = EscposPrinter.from_config(config, BuildContext(tmp_path))
    assert printer.status().state is DeviceState.READY
    assert printer.print_receipt(RECEIPT).ok
    assert peer.receipts[0].native_qr == ["https://gov.example/track/AB12CD34"]
