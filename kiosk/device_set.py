"""The devices a terminal has, built from its profile.

A simulator is built only when the profile names it (and allows simulators); a real adapter
that this build does not have yet is an error at start, never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devices.camera.protocol import Camera
from devices.camera.simulator import SimulatedCamera
from devices.id_reader.protocol import IdReader
from devices.id_reader.simulator import SimulatedIdReader
from devices.locker.protocol import Locker
from devices.locker.simulator import SimulatedLocker
from devices.printer.protocol import ReceiptPrinter
from devices.printer.simulator import SimulatedPrinter
from kiosk.config.errors import ConfigError
from kiosk.config.profile import SIMULATOR, DeviceConfig, Profile


@dataclass
class DeviceSet:
    id_reader: IdReader | None = None
    printer: ReceiptPrinter | None = None
    locker: Locker | None = None
    camera: Camera | None = None

    def fitted(self) -> dict[str, IdReader | ReceiptPrinter | Locker | Camera]:
        kinds = {
            "id_reader": self.id_reader,
            "printer": self.printer,
            "locker": self.locker,
            "camera": self.camera,
        }
        return {k: d for k, d in kinds.items() if d is not None}


@dataclass(frozen=True)
class SimulatorPace:
    """How quickly the simulated citizen acts (a human pace for the demo, none headless) and
    how much paper the simulated printer starts with."""

    card_after_s: float = 1.5
    face_after_s: float = 1.2
    door_closed_after_s: float = 4.0
    paper_receipts: int = 500

    @classmethod
    def instant(cls) -> SimulatorPace:
        return cls(0.0, 0.0, 0.0, paper_receipts=10**9)


def build_devices(
    profile: Profile, data_dir: Path, pace: SimulatorPace | None = None
) -> DeviceSet:
    pace = pace or SimulatorPace()
    cfg = profile.devices

    def check(kind: str, dev: DeviceConfig | None) -> bool:
        if dev is None:
            return False
        if dev.adapter != SIMULATOR:
            raise ConfigError(
                f"profile {profile.profile}: devices.{kind}.adapter: {dev.adapter!r} is not "
                "available in this build yet (use `kiosk demo` or a profile with simulators)"
            )
        if not profile.allow_simulators:
            raise ConfigError(
                f"profile {profile.profile}: devices.{kind}: simulators are not allowed"
            )
        return True

    devices = DeviceSet()
    if check("id_reader", cfg.id_reader):
        devices.id_reader = SimulatedIdReader(present_after_s=pace.card_after_s)
    if check("printer", cfg.printer):
        devices.printer = SimulatedPrinter(data_dir / "printed", paper_receipts=pace.paper_receipts)
    if check("locker", cfg.locker):
        assert cfg.locker is not None
        devices.locker = SimulatedLocker(
            cfg.locker.doors, close_after_s=pace.door_closed_after_s
        )
    if check("camera", cfg.camera):
        devices.camera = SimulatedCamera(face_after_s=pace.face_after_s)
    return devices
