"""THE one table of device kinds, their adapters and each adapter's configuration model.

Profiles (validation of `[devices.<kind>]`), building the fitted devices, the CLI
(`kiosk device list`), the demo (which simulator stands in for what) and the conformance test
read this table; the list of kinds is written nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field

from devices.camera.fake import FakeCamera
from devices.camera.opencv.camera import OpencvCamera
from devices.camera.opencv.config import OpencvCameraConfig
from devices.camera.protocol import Camera
from devices.camera.simulator import SimulatedCamera, SimulatedCameraConfig
from devices.certificate_printer.cups.config import CupsConfig
from devices.certificate_printer.cups.printer import CupsCertificatePrinter
from devices.certificate_printer.fake import FakeCertificatePrinter
from devices.certificate_printer.protocol import CertificatePrinter
from devices.certificate_printer.simulator import (
    SimulatedCertificatePrinter,
    SimulatedCertificatePrinterConfig,
)
from devices.config import AdapterConfig, BuildContext
from devices.id_reader.fake import FakeIdReader
from devices.id_reader.pcsc.config import PcscConfig
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import IdReader
from devices.id_reader.sam.config import SamSerialConfig
from devices.id_reader.sam.reader import ResidentIdSamReader
from devices.id_reader.simulator import SimulatedIdReader, SimulatedIdReaderConfig
from devices.locker.fake import FakeLocker
from devices.locker.protocol import Locker
from devices.locker.rs485.board import Rs485Locker
from devices.locker.rs485.config import Rs485_8a80Config, Rs485KerongConfig
from devices.locker.simulator import SimulatedLocker, SimulatedLockerConfig
from devices.printer.escpos.config import EscposNetworkConfig, EscposSerialConfig, EscposUsbConfig
from devices.printer.escpos.printer import EscposPrinter
from devices.printer.fake import FakePrinter
from devices.printer.protocol import ReceiptPrinter
from devices.printer.simulator import SimulatedPrinter, SimulatedPrinterConfig

SIMULATOR = "simulator"
Builder = Callable[[Any, BuildContext], object]


@dataclass(frozen=True)
class AdapterSpec:
    name: str  # the `adapter` value in a profile
    config: type[AdapterConfig]
    build: Builder | None  # None: declared, but not in this build yet
    poll_interval_s: float | None = 2.0  # how often its worker asks for the status
    simulator: bool = False

    @property
    def available(self) -> bool:
        return self.build is not None


@dataclass(frozen=True)
class KindSpec:
    name: str
    title: str  # what it is, for the profile's documentation and `kiosk device list`
    protocol: type
    fake: Callable[[], object]  # the in-memory stand-in for unit tests and scenes
    adapters: tuple[AdapterSpec, ...]
    many: bool = False  # several can be fitted at once (a hall watches several readers)
    unreachable: str = "check the device's cable and power"  # a technician's first step

    def adapter(self, name: str) -> AdapterSpec:
        for a in self.adapters:
            if a.name == name:
                return a
        raise KeyError(f"{self.name} has no adapter {name!r}")

    @property
    def simulator(self) -> AdapterSpec:
        return next(a for a in self.adapters if a.simulator)


def _sim(config: type[AdapterConfig], build: Builder, poll_s: float = 1.0) -> AdapterSpec:
    return AdapterSpec(SIMULATOR, config, build, poll_s, simulator=True)


KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "id_reader",
        "Identity document readers: resident ID (SAM), passports and bank cards (PC/SC). "
        "Several may be fitted; the identify step watches them all at once.",
        IdReader,
        FakeIdReader,
        (_sim(SimulatedIdReaderConfig, SimulatedIdReader.from_config),
         AdapterSpec("sam_serial", SamSerialConfig, ResidentIdSamReader.from_config, 1.0),
         AdapterSpec("pcsc", PcscConfig, PcscReader.from_config, 1.0)),
        many=True,
        unreachable="check the reader's cable and power; for PC/SC, that pcscd runs",
    ),
    KindSpec(
        "printer",
        "The receipt printer (ESC/POS); absent means nothing that must print is offered.",
        ReceiptPrinter,
        FakePrinter,
        (_sim(SimulatedPrinterConfig, SimulatedPrinter.from_config),
         AdapterSpec("escpos_network", EscposNetworkConfig, EscposPrinter.from_config, 2.0),
         AdapterSpec("escpos_usb", EscposUsbConfig, EscposPrinter.from_config, 2.0),
         AdapterSpec("escpos_serial", EscposSerialConfig, EscposPrinter.from_config, 2.0)),
        unreachable="check the printer's power and cable (or its network address)",
    ),
    KindSpec(
        "certificate_printer",
        "The A4 printer for certificates issued on the spot (CUPS).",
        CertificatePrinter,
        FakeCertificatePrinter,
        (_sim(SimulatedCertificatePrinterConfig, SimulatedCertificatePrinter.from_config),
         AdapterSpec("cups", CupsConfig, CupsCertificatePrinter.from_config, 5.0)),
        unreachable="check that cupsd runs and the queue is enabled (lpstat -p)",
    ),
    KindSpec(
        "locker",
        "The certificate locker (RS-485 lock boards); absent means no pickup.",
        Locker,
        FakeLocker,
        (_sim(SimulatedLockerConfig, SimulatedLocker.from_config),
         AdapterSpec("rs485_8a80", Rs485_8a80Config, Rs485Locker.from_config, 1.0),
         AdapterSpec("rs485_kerong", Rs485KerongConfig, Rs485Locker.from_config, 1.0)),
        unreachable="check the RS-485 cable, the boards' power and their addresses",
    ),
    KindSpec(
        "camera",
        "The camera for QR codes, the face check and document capture (OpenCV).",
        Camera,
        FakeCamera,
        (_sim(SimulatedCameraConfig, SimulatedCamera.from_config),
         AdapterSpec("opencv", OpencvCameraConfig, OpencvCamera.from_config, 0.5)),
        unreachable="check the camera's USB cable (ls /dev/video*)",
    ),
)
KIND_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)


def kind(name: str) -> KindSpec:
    for k in KINDS:
        if k.name == name:
            return k
    raise KeyError(f"unknown device kind {name!r} (kinds: {', '.join(KIND_NAMES)})")


@cache
def config_type(kind_name: str) -> Any:
    """The pydantic type of one `[devices.<kind>]` table: a union discriminated on `adapter`."""
    configs = tuple(a.config for a in kind(kind_name).adapters)
    return Annotated[Union[configs], Field(discriminator="adapter")]  # noqa: UP007


def adapter_of(kind_name: str, config: AdapterConfig) -> AdapterSpec:
    return kind(kind_name).adapter(config.adapter)


def simulator_config(kind_name: str, like: AdapterConfig | None = None, *,
                     instant: bool = False, **settings: Any) -> AdapterConfig:
    """The kind's simulator config, keeping what `like` shares with it (e.g. a locker's door
    count); `instant` for headless runs; then `settings`."""
    model = kind(kind_name).simulator.config
    shared = {}
    if like is not None:
        shared = {k: v for k, v in like.model_dump().items()
                  if k in model.model_fields and k != "adapter"}
    return model(**{**shared, **(model.INSTANT if instant else {}), **settings})
