"""THE one table of device kinds, their adapters and each adapter's configuration model.

Profiles (validation of `[devices.<kind>]`), building the fitted devices, the CLI
(`kiosk device list`), the demo (which simulator stands in for what) and the conformance test
read this table; the list of kinds is written nowhere else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union

from pydantic import Field

from devices.camera.opencv.config import OpencvCameraConfig
from devices.camera.protocol import Camera
from devices.camera.simulator import SimulatedCamera, SimulatedCameraConfig
from devices.certificate_printer.cups.config import CupsConfig
from devices.certificate_printer.protocol import CertificatePrinter
from devices.certificate_printer.simulator import (
    SimulatedCertificatePrinter,
    SimulatedCertificatePrinterConfig,
)
from devices.config import AdapterConfig, BuildContext
from devices.id_reader.pcsc.config import PcscConfig
from devices.id_reader.protocol import IdReader
from devices.id_reader.sam.config import SamSerialConfig
from devices.id_reader.simulator import SimulatedIdReader, SimulatedIdReaderConfig
from devices.locker.protocol import Locker
from devices.locker.rs485.config import Rs485_8a80Config, Rs485KerongConfig
from devices.locker.simulator import SimulatedLocker, SimulatedLockerConfig
from devices.printer.escpos.config import EscposNetworkConfig, EscposSerialConfig, EscposUsbConfig
from devices.printer.protocol import ReceiptPrinter
from devices.printer.simulator import SimulatedPrinter, SimulatedPrinterConfig

SIMULATOR = "simulator"
Builder = Callable[[Any, BuildContext], object]


@dataclass(frozen=True)
class AdapterSpec:
    name: str  # the `adapter` value in a profile
    config: type[AdapterConfig]
    # How to build one from its config: a callable, or where to find it ("module:Class.method"),
    # imported only when a device is built (validating a profile needs only the configs, and
    # a terminal imports the code of the adapters it has, not of every adapter there is).
    # None: declared, but not in this build yet.
    builds: Builder | str | None
    poll_interval_s: float | None = 2.0  # how often its worker asks for the status
    simulator: bool = False

    @property
    def available(self) -> bool:
        return self.builds is not None

    @property
    def build(self) -> Builder | None:
        return _resolve(self.builds) if isinstance(self.builds, str) else self.builds


@cache
def _resolve(where: str) -> Any:
    """"module:Class.attribute", imported."""
    module, _, path = where.partition(":")
    found: Any = importlib.import_module(module)
    for name in path.split("."):
        found = getattr(found, name)
    return found


@dataclass(frozen=True)
class KindSpec:
    name: str
    title: str  # what it is, for the profile's documentation and `kiosk device list`
    protocol: type
    fakes: str  # where the in-memory stand-in for unit tests and scenes is ("module:Class")
    adapters: tuple[AdapterSpec, ...]
    many: bool = False  # several can be fitted at once (a hall watches several readers)
    unreachable: str = "check the device's cable and power"  # a technician's first step

    @property
    def fake(self) -> Callable[[], object]:
        fake: Callable[[], object] = _resolve(self.fakes)
        return fake

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


_ESCPOS = "devices.printer.escpos.printer:EscposPrinter.from_config"
_RS485 = "devices.locker.rs485.board:Rs485Locker.from_config"

KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "id_reader",
        "Identity document readers: resident ID (SAM), passports and bank cards (PC/SC). "
        "Several may be fitted; the identify step watches them all at once.",
        IdReader,
        "devices.id_reader.fake:FakeIdReader",
        (_sim(SimulatedIdReaderConfig, SimulatedIdReader.from_config),
         AdapterSpec("sam_serial", SamSerialConfig,
                     "devices.id_reader.sam.reader:ResidentIdSamReader.from_config", 1.0),
         AdapterSpec("pcsc", PcscConfig, "devices.id_reader.pcsc.reader:PcscReader.from_config",
                     1.0)),
        many=True,
        unreachable="check the reader's cable and power; for PC/SC, that pcscd runs",
    ),
    KindSpec(
        "printer",
        "The receipt printer (ESC/POS); absent means nothing that must print is offered.",
        ReceiptPrinter,
        "devices.printer.fake:FakePrinter",
        (_sim(SimulatedPrinterConfig, SimulatedPrinter.from_config),
         AdapterSpec("escpos_network", EscposNetworkConfig, _ESCPOS, 2.0),
         AdapterSpec("escpos_usb", EscposUsbConfig, _ESCPOS, 2.0),
         AdapterSpec("escpos_serial", EscposSerialConfig, _ESCPOS, 2.0)),
        unreachable="check the printer's power and cable (or its network address)",
    ),
    KindSpec(
        "certificate_printer",
        "The A4 printer for certificates issued on the spot (CUPS).",
        CertificatePrinter,
        "devices.certificate_printer.fake:FakeCertificatePrinter",
        (_sim(SimulatedCertificatePrinterConfig, SimulatedCertificatePrinter.from_config),
         AdapterSpec("cups", CupsConfig,
                     "devices.certificate_printer.cups.printer:CupsCertificatePrinter.from_config",
                     5.0)),
        unreachable="check that cupsd runs and the queue is enabled (lpstat -p)",
    ),
    KindSpec(
        "locker",
        "The certificate locker (RS-485 lock boards); absent means no pickup.",
        Locker,
        "devices.locker.fake:FakeLocker",
        (_sim(SimulatedLockerConfig, SimulatedLocker.from_config),
         AdapterSpec("rs485_8a80", Rs485_8a80Config, _RS485, 1.0),
         AdapterSpec("rs485_kerong", Rs485KerongConfig, _RS485, 1.0)),
        unreachable="check the RS-485 cable, the boards' power and their addresses",
    ),
    KindSpec(
        "camera",
        "The camera for QR codes, the face check and document capture (OpenCV).",
        Camera,
        "devices.camera.fake:FakeCamera",
        (_sim(SimulatedCameraConfig, SimulatedCamera.from_config),
         AdapterSpec("opencv", OpencvCameraConfig,
                     "devices.camera.opencv.camera:OpencvCamera.from_config", 0.5)),
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
