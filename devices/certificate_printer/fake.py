"""An in-memory certificate printer for unit tests: keeps what it printed, fails on command."""

from __future__ import annotations

from devices.certificate_printer.protocol import CertificateDocument
from devices.printer.fake import FakePrintDevice
from devices.printer.protocol import PrintResult


class FakeCertificatePrinter(FakePrintDevice):
    def __init__(self) -> None:
        super().__init__()
        self.printed: list[CertificateDocument] = []

    def print_certificate(self, document: CertificateDocument) -> PrintResult:
        refused = self._refusal()
        if refused is not None:
            return refused
        self.printed.append(document)
        return PrintResult(printed_text=(document.title, document.serial_no))
