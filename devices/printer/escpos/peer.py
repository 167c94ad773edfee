"""A receipt printer's wire peer: ESC/POS over TCP, the way a network printer on port 9100
takes it. It decodes the byte stream into receipts (text from GB18030 in Chinese mode, its
alignment and emphasis, native QR payloads, raster images, with any QR code in them decoded,
cuts), answers DLE EOT from the state it is told (ok, paper near its end, paper out, cover
open, silent), and renders each receipt to PNG.

Like a real printer it holds what it cannot print (paper out, cover open) and prints it once
it can, unless the host cleared its buffer (DLE ENQ 2): the plague of printing a backlog for
the next citizen is something tests can see. Tests assert on what this peer decoded, never on
the bytes the adapter produced.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ESC, GS, FS, DLE, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x0A
# ESC commands and how many argument bytes follow them.
_ESC_ARGS = {0x40: 0, 0x21: 1, 0x45: 1, 0x61: 1, 0x74: 1, 0x64: 1, 0x2D: 1, 0x47: 1, 0x4D: 1,
             0x4A: 1, 0x32: 0, 0x33: 1, 0x70: 3, 0x7B: 1, 0x56: 1, 0x20: 1, 0x52: 1}
_GS_ARGS = {0x21: 1, 0x42: 1, 0x48: 1, 0x68: 1, 0x77: 1, 0x66: 1, 0x4C: 2, 0x57: 2, 0x61: 1,
            0x72: 1}
_FS_ARGS = {0x26: 0, 0x2E: 0, 0x21: 1, 0x2D: 1, 0x57: 1}
ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass
class PrintedLine:
    text: str
    align: str = "left"
    bold: bool = False
    large: bool = False


@dataclass
class PrintedReceipt:
    lines: list[PrintedLine] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)  # native (GS ( k) and raster, decoded
    native_qr: list[str] = field(default_factory=list)  # those printed natively
    images: list[Any] = field(default_factory=list)  # raster images, as 0/255 numpy arrays
    cut: bool = False
    # Everything in paper order, for drawing: ("line", PrintedLine), ("qr", payload) and
    # ("image", array).
    parts: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> list[str]:
        return [line.text for line in self.lines]


@dataclass
class PrinterSetting:
    paper: str = "ok"  # ok | near_end | out
    cover_open: bool = False
    silent: bool = False  # answers nothing, prints nothing (a hung or unplugged printer)
    paper_left_lines: int | None = None  # runs out after this many more lines

    @property
    def can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open


class _Decoder:
    """The byte stream into receipts; an incomplete command waits for the next bytes."""

    def __init__(self, peer: EscposPeer) -> None:
        self._peer = peer
        self.chinese = False
        self.align, self.bold, self.large = "left", False, False
        self.qr_stored = ""
        self.line = bytearray()
        self.receipt = PrintedReceipt()

    def feed(self, data: bytes) -> int:
        """Decode what is complete; returns how many bytes were used."""
        i = 0
        while i < len(data) and self._peer.setting.can_print:
            used = self._one(data, i)
            if used == 0:
                break  # wait for more bytes
            i += used
        return i

    def _one(self, data: bytes, i: int) -> int:
        b = data[i]
        if b == LF:
            if not self._peer.use_paper_line():
                return 0  # the roll ran out: this line and the rest wait for paper
            self._end_line()
            return 1
        if b == ESC:
            return self._command(data, i, _ESC_ARGS, self._esc)
        if b == GS:
            if i + 1 < len(data) and data[i + 1] == 0x28:  # GS ( k: a 2D code
                return self._gs_paren(data, i)
            if i + 1 < len(data) and data[i + 1] == 0x76:  # GS v 0: a raster image
                return self._raster(data, i)
            if i + 1 < len(data) and data[i + 1] == 0x56:  # GS V: cut
                if i + 2 >= len(data):
                    return 0
                n = 4 if data[i + 2] in (65, 66) else 3
                if i + n > len(data):
                    return 0
                self._cut()
                return n
            return self._command(data, i, _GS_ARGS, self._gs)
        if b == FS:
            return self._command(data, i, _FS_ARGS, self._fs)
        if b == 0x0D:
            return 1
        self.line.append(b)
        return 1

    def _command(self, data: bytes, i: int, table: dict[int, int], apply: Any) -> int:
        if i + 1 >= len(data):
            return 0
        code = data[i + 1]
        if code not in table:
            self._peer.unknown.append(bytes(data[i:i + 2]))
            return 2
        n = 2 + table[code]
        if i + n > len(data):
            return 0
        apply(code, data[i + 2:i + n])
        return n

    def _esc(self, code: int, args: bytes) -> None:
        if code == 0x40:  # ESC @: initialise
            self.align, self.bold, self.large, self.chinese = "left", False, False, False
        elif code == 0x21:  # ESC ! n: print mode
            self.bold = bool(args[0] & 0x08)
            self.large = bool(args[0] & 0x30)
        elif code == 0x45:
            self.bold = bool(args[0] & 1)
        elif code == 0x61:
            self.align = ALIGN.get(args[0], "left")

    def _gs(self, code: int, args: bytes) -> None:
        if code == 0x72:  # GS r n: transmit status, in sequence (after what came before)
            self._peer.reply(self._peer.sensor_answer())

    def _fs(self, code: int, args: bytes) -> None:
        if code == 0x26:
            self.chinese = True
        elif code == 0x2E:
            self.chinese = False

    def _gs_paren(self, data: bytes, i: int) -> int:
        if i + 5 > len(data):
            return 0
        length = data[i + 3] | data[i + 4] << 8
        if i + 5 + length > len(data):
            return 0
        body = data[i + 5:i + 5 + length]
        if data[i + 2] == 0x6B and len(body) >= 2 and body[0] == 0x31:  # a QR code
            fn = body[1]
            if fn == 0x50:  # store the data (after m = 0x30)
                self.qr_stored = body[3:].decode("utf-8", errors="replace")
            elif fn == 0x51:  # print what is stored
                self.receipt.qr_codes.append(self.qr_stored)
                self.receipt.native_qr.append(self.qr_stored)
                self.receipt.parts.append(("qr", self.qr_stored))
        return 5 + length

    def _raster(self, data: bytes, i: int) -> int:
        if i + 8 > len(data):
            return 0
        width_bytes = data[i + 4] | data[i + 5] << 8
        height = data[i + 6] | data[i + 7] << 8
        size = width_bytes * height
        if i + 8 + size > len(data):
            return 0
        import numpy as np

        bits = np.unpackbits(np.frombuffer(data[i + 8:i + 8 + size], np.uint8))
        image = np.where(bits.reshape(height, width_bytes * 8) == 1, 0, 255).astype(np.uint8)
        self.receipt.images.append(image)
        self.receipt.parts.append(("image", image))
        code = _qr_in(image)
        if code is not None:
            self.receipt.qr_codes.append(code)
        return 8 + size

    def _end_line(self) -> None:
        raw, self.line = bytes(self.line), bytearray()
        text = raw.decode("gb18030" if self.chinese else "latin-1", errors="replace")
        line = PrintedLine(text, self.align, self.bold, self.large)
        self.receipt.lines.append(line)
        self.receipt.parts.append(("line", line))

    def _cut(self) -> None:
        self.receipt.cut = True
        self._peer.finished(self.receipt)
        self.receipt = PrintedReceipt()


def _qr_in(image: Any) -> str | None:
    import numpy as np
    import zxingcpp

    framed = np.pad(image, 16, constant_values=255)
    found = zxingcpp.read_barcodes(framed)
    return found[0].text if found else None


class EscposPeer:
    """Listens on loopback (port 0: any free port); one connection at a time, like a printer."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 png_dir: Path | None = None) -> None:
        self.setting = PrinterSetting()
        self.receipts: list[PrintedReceipt] = []
        self.unknown: list[bytes] = []  # commands it did not know (tests expect none)
        self.status_requests = 0
        self._png_dir = png_dir
        self._held = bytearray()  # what arrived while it could not print
        self._left = b""  # the start of a command whose end has not come yet
        self._lock = threading.RLock()
        self._decoder = _Decoder(self)
        self._server = socket.create_server((host, port))
        self.host, self.port = self._server.getsockname()[:2]
        self._stopping = False
        self._conn: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True, name="escpos-peer")
        self._thread.start()

    # ---------------------------------------------------------------- what it is told
    def set(self, **changes: Any) -> None:
        """Change paper, cover or silence; once it can print again, it prints what it held."""
        with self._lock:
            for name, value in changes.items():
                setattr(self.setting, name, value)
            if self.setting.can_print and self._held:
                held, self._held = bytes(self._held), bytearray()
                self._print(held)

    def use_paper_line(self) -> bool:
        """One line of paper goes; False (the roll ran out: nothing more prints)."""
        left = self.setting.paper_left_lines
        if left is not None:
            if left <= 0:
                self.setting.paper = "out"
                return False
            self.setting.paper_left_lines = left - 1
        return True

    def finished(self, receipt: PrintedReceipt) -> None:
        self.receipts.append(receipt)
        if self._png_dir is not None:
            self._png_dir.mkdir(parents=True, exist_ok=True)
            render_png(receipt, self._png_dir / f"receipt-{len(self.receipts):05d}.png")

    # ---------------------------------------------------------------- the wire
    def reply(self, answer: int) -> None:
        conn = self._conn
        if conn is not None and not self.setting.silent:
            with contextlib.suppress(OSError):
                conn.sendall(bytes([answer]))

    def sensor_answer(self) -> int:
        """GS r 1: bits 0+1 paper near its end, bits 2+3 paper out; bits 4 and 7 clear."""
        s = self.setting
        return (0x03 if s.paper in ("near_end", "out") else 0) | (0x0C if s.paper == "out" else 0)

    def _answer(self, n: int) -> int:
        s = self.setting
        if n == 1:
            return 0x12 | (0x08 if not s.can_print else 0)
        if n == 2:
            return 0x12 | (0x04 if s.cover_open else 0) | (0x20 if s.paper == "out" else 0)
        if n == 3:
            return 0x12
        near = 0x0C if s.paper in ("near_end", "out") else 0
        return 0x12 | near | (0x60 if s.paper == "out" else 0)

    def _serve(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._conn = conn
            with contextlib.suppress(OSError):
                self._talk(conn)
            conn.close()
            self._conn = None

    def _talk(self, conn: socket.socket) -> None:
        pending = bytearray()
        while True:
            data = conn.recv(65536)
            if not data:
                return
            with self._lock:
                if self.setting.silent:
                    continue
                pending += data
                pending = self._take(pending, conn)

    def _take(self, pending: bytearray, conn: socket.socket) -> bytearray:
        """Answer real-time requests at once; print or hold the rest."""
        out = bytearray()
        i = 0
        while i < len(pending):
            if pending[i] == DLE and i + 1 < len(pending) and pending[i + 1] in (0x04, 0x05):
                if i + 2 >= len(pending):
                    break
                if pending[i + 1] == 0x04:
                    self.status_requests += 1
                    conn.sendall(bytes([self._answer(pending[i + 2])]))
                elif pending[i + 2] == 2:  # DLE ENQ 2: clear the buffers
                    self._held, self._left, out = bytearray(), b"", bytearray()
                    self._decoder = _Decoder(self)
                i += 3
                continue
            out.append(pending[i])
            i += 1
        rest = pending[i:]
        if out:
            if self.setting.can_print:
                self._print(bytes(out))
            else:
                self._held += out
        return bytearray(rest)

    def _print(self, data: bytes) -> None:
        buffer = self._left + data
        used = self._decoder.feed(buffer)
        if self.setting.can_print:
            self._left = buffer[used:]
        else:  # ran out of paper in the middle: the rest waits
            self._held += buffer[used:]
            self._left = b""

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        with contextlib.suppress(OSError):
            self._server.close()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(2)


def render_png(receipt: PrintedReceipt, path: Path, width: int = 576) -> Path:
    """The receipt as the paper would look (80 mm at 203 dpi)."""
    import numpy as np
    import zxingcpp
    from PIL import Image, ImageDraw, ImageFont

    font_path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    def font(size: int) -> Any:
        if font_path.exists():
            return ImageFont.truetype(str(font_path), size)
        return ImageFont.load_default()
    parts: list[Any] = []
    for kind, part in receipt.parts:
        if kind == "line":
            f = font(44 if part.large else 26)
            tile = Image.new("L", (width, 56 if part.large else 34), 255)
            draw = ImageDraw.Draw(tile)
            w = draw.textlength(part.text, font=f)
            x = {"left": 8, "center": (width - w) / 2, "right": width - w - 8}[part.align]
            draw.text((x, 2), part.text, font=f, fill=0,
                      stroke_width=1 if part.bold else 0, stroke_fill=0)
            parts.append(tile)
        elif kind == "image":
            parts.append(Image.fromarray(np.asarray(part)))
        else:
            drawn = zxingcpp.create_barcode(part, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6)
            parts.append(Image.fromarray(np.asarray(drawn)))
    height = sum(p.height for p in parts) + 24
    paper = Image.new("L", (width, height), 255)
    y = 12
    for p in parts:
        paper.paste(p, ((width - p.width) // 2 if p.width < width else 0, y))
        y += p.height
    paper.save(path)
    return path
