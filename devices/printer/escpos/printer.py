"""EscposPrinter (`escpos_network`, `escpos_usb`, `escpos_serial`): receipts laid out with
python-escpos (its capability profile for the model: native QR or a raster one, code pages),
sent over the device layer's links, with the printer's real-time status read and checked
around every job.

python-escpos builds the job (a `Dummy` printer collects the bytes); the link carries it. Its
own status calls are not used: they answer "paper OK" when nothing comes back (FIELD_NOTES).
Chinese goes as GB18030 with the printer's Chinese mode switched on explicitly (`FS &`), which
python-escpos never sends. A job that paper-out or an open cover interrupts is cleared from the
printer's buffer (`DLE ENQ 2`), so that it is not printed, for the next citizen, when paper is
loaded; the journal offers it for reprint instead.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from devices.config import BuildContext
from devices.links import LinkError, SerialLink, TcpLink, UsbLink
from devices.links.base import Link
from devices.printer.escpos.config import (
    EscposNetworkConfig,
    EscposSerialConfig,
    EscposUsbConfig,
)
from devices.printer.escpos.status import (
    JOB_DONE_REQUEST,
    PrinterState,
    StatusUnreadable,
    job_done_answer,
    request,
    unreadable_status,
)
from devices.printer.fake import failure_for, render_text
from devices.printer.protocol import PrintFailure, PrintResult, Receipt
from devices.status import DeviceState, DeviceStatus, LinkReason

log = logging.getLogger(__name__)

CHINESE_ON, CHINESE_OFF = b"\x1c\x26", b"\x1c\x2e"  # FS &, FS .
CLEAR_BUFFERS = b"\x10\x05\x02"  # DLE ENQ 2: recover from the error and clear the buffers
QR_SIZE = 6
LOGO_MAX = (384, 160)  # dots: fits a 58 mm head (384 dots) as well as an 80 mm one


class EscposPrinter:
    def release(self) -> None:
        """Let go of the link (the worker does, when it stops)."""
        with self._lock:
            self._link.close()

    def __init__(self, link: Link, *, model: str = "default", reply_timeout_s: float = 0.5,
                 job_timeout_s: float = 20.0) -> None:
        from escpos.capabilities import get_profile

        self._link = link
        self._model = model
        self._profile = get_profile(model)
        self._reply_timeout_s = reply_timeout_s
        self._job_timeout_s = job_timeout_s
        self._job_done = False
        self._lock = threading.Lock()  # one job or status exchange at a time on the link

    @classmethod
    def from_config(cls, config: EscposNetworkConfig | EscposUsbConfig | EscposSerialConfig,
                    ctx: BuildContext) -> EscposPrinter:
        link: Link
        if isinstance(config, EscposNetworkConfig):
            link = TcpLink(config.host, config.tcp_port)
        elif isinstance(config, EscposUsbConfig):
            link = UsbLink(config.usb_vendor, config.usb_product)
        else:
            link = SerialLink(config.port, baudrate=config.baudrate)
        return cls(link, model=config.model)

    @property
    def native_qr(self) -> bool:
        return bool(self._profile.supports("qrCode"))

    # ---------------------------------------------------------------- status
    def _answer(self, what: str) -> int:
        """The next status answer; a job-done answer on the way is noted, not taken for it."""
        while True:
            got = self._link.read(1, self._reply_timeout_s)
            if not got:
                raise StatusUnreadable(f"no answer to {what} within "
                                       f"{self._reply_timeout_s:g} s")
            if job_done_answer(got[0]):  # bit 4 clear: never a DLE EOT answer
                self._job_done = True
                continue
            return got[0]

    def _state(self) -> PrinterState:
        """DLE EOT 1-4, each answer within the deadline; raises StatusUnreadable or LinkError."""
        self._link.open()
        answers = bytearray()
        for n in (1, 2, 3, 4):
            self._link.write(request(n))
            answers.append(self._answer(f"DLE EOT {n}"))
        return PrinterState.parse(bytes(answers))

    def _status(self) -> DeviceStatus:
        try:
            return self._state().device_status()
        except StatusUnreadable as e:
            return unreadable_status(str(e))
        except LinkError as e:
            return DeviceStatus.offline(LinkReason.NOT_CONNECTED, str(e))

    def _fresh_status(self) -> DeviceStatus:
        """The status, after dropping whatever late answer an earlier exchange left."""
        try:
            self._link.open()
            self._link.discard_input()
        except LinkError as e:
            return DeviceStatus.offline(LinkReason.NOT_CONNECTED, str(e))
        return self._status()

    def status(self) -> DeviceStatus:
        with self._lock:
            return self._fresh_status()

    def self_test(self) -> DeviceStatus:
        return self.status()

    # ---------------------------------------------------------------- jobs
    def job(self, receipt: Receipt) -> bytes:
        """The receipt as ESC/POS bytes, for this model."""
        from escpos.printer import Dummy

        p: Any = Dummy(profile=self._model)
        p.hw("INIT")
        logo = _logo(receipt.logo)
        if logo is not None:
            p.set(align="center")
            p.image(logo)
        p._raw(CHINESE_ON)

        def line(text: str, **style: Any) -> None:
            p.set(**style)
            p._raw(text.encode("gb18030", errors="replace") + b"\n")

        line(receipt.title, align="center", bold=True, double_height=True, double_width=True)
        line("-" * 32, align="left", normal_textsize=True)
        for text in receipt.lines:
            line(text, align="left", bold=False, normal_textsize=True)
        if receipt.qr_data:
            p.set(align="center", normal_textsize=True)
            p.qr(receipt.qr_data, size=QR_SIZE, native=self.native_qr)
        if receipt.footer:
            line("-" * 32, align="left", normal_textsize=True)
            line(receipt.footer, align="center", normal_textsize=True)
        p._raw(CHINESE_OFF)
        p.cut()
        return bytes(p.output)

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        data = self.job(receipt)
        with self._lock:
            before = self._fresh_status()
            if not before.usable:  # a job never goes to a printer that cannot print it
                return PrintResult(failure=_failure(before), detail=before.message)
            try:
                self._job_done = False
                self._link.write(data + JOB_DONE_REQUEST)
            except LinkError as e:
                return PrintResult(failure=PrintFailure.OFFLINE, detail=str(e))
            after = self._until_done()
            if after is None:
                return PrintResult(printed_text=render_text(receipt))
            if after.state is DeviceState.FAULT:
                self._clear_buffers()
            log.warning("receipt printer: a job was interrupted: %s", after.message)
            return PrintResult(failure=_failure(after),
                               detail=f"interrupted: {after.message}")

    def _until_done(self) -> DeviceStatus | None:
        """Wait for the job-done answer, watching the real-time status meanwhile: None once
        the job went through, else the status that stopped it (paper out, cover open, a
        printer that stopped answering or never finished within the job's time)."""
        deadline = time.monotonic() + self._job_timeout_s
        while True:
            try:
                got = self._link.read(1, self._reply_timeout_s)
            except LinkError as e:
                return DeviceStatus.offline(LinkReason.NOT_CONNECTED, str(e))
            if got and job_done_answer(got[0]):
                self._job_done = True
            if self._job_done:
                return None
            status = self._status()
            if self._job_done:
                return None
            if not status.usable:
                return status
            if time.monotonic() > deadline:
                return DeviceStatus.offline(LinkReason.NOT_ANSWERING, "the printer did not "
                                            f"finish the job within {self._job_timeout_s:g} s")

    def _clear_buffers(self) -> None:
        """What the printer still holds of the interrupted job must never come out later."""
        try:
            self._link.write(CLEAR_BUFFERS)
        except LinkError as e:
            log.warning("receipt printer: could not clear its buffer: %s", e)
            return
        self._status()  # answered only after the clearing, which it follows on the wire


def _logo(data: bytes | None) -> Any:
    """The logo as a 1-bit image no larger than LOGO_MAX; a logo that cannot be read is left
    out (logged), never a receipt that does not print."""
    if not data:
        return None
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
        image: Image.Image = opened
    except (UnidentifiedImageError, OSError, ValueError) as e:
        log.warning("receipt printer: the logo cannot be read (%s); printing without it", e)
        return None
    if image.mode in ("RGBA", "LA", "P"):  # transparent parts print as paper
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image)
    image = image.convert("L")
    image.thumbnail(LOGO_MAX)
    return image.point(lambda v: 255 if v >= 128 else 0).convert("1")


def _failure(status: DeviceStatus) -> PrintFailure:
    if status.state is DeviceState.OFFLINE:
        return PrintFailure.OFFLINE
    if status.reason in ("paper_out", "cover_open"):
        return failure_for(status.reason)
    return PrintFailure.FAULT
