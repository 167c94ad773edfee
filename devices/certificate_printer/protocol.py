"""What the A4 certificate printer does: print an issued certificate and say whether it can."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from devices.printer.protocol import PrintResult
from devices.status import DeviceStatus


@dataclass(frozen=True)
class CertificateDocument:
    """An issued certificate, rendered to an A4 PDF. Personal data: wiped with the session."""

    serial_no: str  # given by the back office when it issued the certificate
    title: str
    pdf: bytes


class CertificatePrinter(Protocol):
    def status(self) -> DeviceStatus: ...

    def print_certificate(self, document: CertificateDocument) -> PrintResult: ...

    def self_test(self) -> DeviceStatus: ...
