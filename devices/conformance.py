"""Static proof that every fake and simulator satisfies its kind's Protocol (checked by mypy
--strict; nothing here runs). tests/test_registry.py checks the same at run time for every
adapter the registry can build."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.camera.fake import FakeCamera
    from devices.camera.protocol import Camera
    from devices.camera.simulator import SimulatedCamera
    from devices.certificate_printer.fake import FakeCertificatePrinter
    from devices.certificate_printer.protocol import CertificatePrinter
    from devices.certificate_printer.simulator import SimulatedCertificatePrinter
    from devices.id_reader.fake import FakeIdReader
    from devices.id_reader.protocol import IdReader
    from devices.id_reader.simulator import SimulatedIdReader
    from devices.locker.fake import FakeLocker
    from devices.locker.protocol import Locker
    from devices.locker.simulator import SimulatedLocker
    from devices.printer.fake import FakePrinter
    from devices.printer.protocol import ReceiptPrinter
    from devices.printer.simulator import SimulatedPrinter

    _readers: list[IdReader] = [FakeIdReader(), SimulatedIdReader()]
    _printers: list[ReceiptPrinter] = [FakePrinter(), SimulatedPrinter()]
    _certificate_printers: list[CertificatePrinter] = [FakeCertificatePrinter(),
                                                       SimulatedCertificatePrinter()]
    _lockers: list[Locker] = [FakeLocker(), SimulatedLocker()]
    _cameras: list[Camera] = [FakeCamera(), SimulatedCamera()]
