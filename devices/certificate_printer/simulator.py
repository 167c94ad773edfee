"""An A4 certificate printer simulator for the demo: each certificate becomes a PDF file.

Chosen only explicitly; CUPS with a virtual PDF queue comes with the real adapter.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from devices.certificate_printer.protocol import CertificateDocument
from devices.config import AdapterConfig, BuildContext
from devices.printer.fake import failure_for
from devices.printer.protocol import PrintResult
from devices.status import DeviceStatus


class SimulatedCertificatePrinterConfig(AdapterConfig):
    adapter: Literal["simulator"] = "simulator"
    """The demo's A4 printer: certificates go to PDF files in the data directory."""
    sheets: int = Field(default=250, ge=0)
    """Sheets of A4 in the simulated tray."""

    INSTANT: ClassVar[dict[str, Any]] = {"sheets": 10**9}


class SimulatedCertificatePrinter:
    def __init__(self, out_dir: Path | None = None, *, sheets: int = 250) -> None:
        self._out_dir = out_dir
        self._sheets = sheets
        self._count = 0
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: SimulatedCertificatePrinterConfig,
                    ctx: BuildContext) -> SimulatedCertificatePrinter:
        return cls(ctx.data_dir / "certificates", sheets=config.sheets)

    def status(self) -> DeviceStatus:
        if self._sheets <= 0:
            return DeviceStatus.fault("paper_out", "the A4 tray is empty")
        return DeviceStatus.ready()

    def print_certificate(self, document: CertificateDocument) -> PrintResult:
        status = self.status()
        if not status.usable:
            return PrintResult(failure=failure_for(status.reason), detail=status.message)
        with self._lock:
            self._sheets -= 1
            self._count += 1
            n = self._count
        if self._out_dir is not None:
            self._out_dir.mkdir(parents=True, exist_ok=True)
            (self._out_dir / f"certificate-{os.getpid()}-{n:05d}.pdf").write_bytes(document.pdf)
        return PrintResult(printed_text=(document.title, document.serial_no))

    def self_test(self) -> DeviceStatus:
        return self.status()
