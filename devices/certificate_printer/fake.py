"""An in-memory certificate printer for unit tests: keeps what it printed, fails on command."""

from __future__ import annotations

from devices.certificate_printer.protocol import CertificateDocument
from devices.printer.fake import failure_for
from devices.printer.protocol import PrintFailure, PrintResult
from devices.status import DeviceStatus


class FakeCertificatePrinter:
    def __init__(self) -> None:
        self._status = DeviceStatus.ready()
        self.printed: list[CertificateDocument] = []
        self._fail_next: PrintFailure | None = None

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def fail_next(self, failure: PrintFailure) -> None:
        self._fail_next = failure

    def status(self) -> DeviceStatus:
        return self._status

    def print_certificate(self, document: CertificateDocument) -> PrintResult:
        if self._fail_next is not None:
            failure, self._fail_next = self._fail_next, None
            return PrintResult(failure=failure, detail="fake failure")
        if not self._status.usable:
            return PrintResult(failure=failure_for(self._status.reason),
                               detail=self._status.message)
        self.printed.append(document)
        return PrintResult(printed_text=(document.title, document.serial_no))

    def self_test(self) -> DeviceStatus:
        return self._status
