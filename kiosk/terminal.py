"""The composition root: one terminal = profile + devices + outbox + sync + session.

Screens and the headless simulator are both built on top of a `Terminal`; neither creates
devices, databases or HTTP sessions of its own.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from devices.id_reader.simulator import DEMO_CITIZENS
from devices.status import DeviceStatus
from kiosk.config.catalogue import Service, load_catalogue
from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile
from kiosk.config.settings import Clock, SystemClock, Timings
from kiosk.device_set import DeviceSet, SimulatorPace, build_devices
from kiosk.health.monitor import DeviceHealth
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.records.audit import AuditLog
from kiosk.records.locker_store import LockerInventory, LockerItem
from kiosk.records.submission import citizen_hash
from kiosk.session import Session, SessionDeps
from offline_queue import FernetCipher, HttpTransport, Outbox, SyncWorker

log = logging.getLogger(__name__)


@dataclass
class TerminalOptions:
    data_dir: Path
    backoffice_url: str
    timings: Timings | None = None  # None: the profile's
    pace: SimulatorPace | None = None
    clock: Clock = field(default_factory=SystemClock)
    devices: DeviceSet | None = None  # None: built from the profile
    seed_demo_locker: bool = False
    token_file: str | None = None  # the terminal's bearer token, written at enrolment


def open_outbox(data_dir: Path, *, recover_leases: bool = True) -> Outbox:
    """The terminal's outbox; a corrupt database or key file is a one-line ConfigError."""
    try:
        return Outbox(data_dir / "outbox.db",
                      cipher=FernetCipher.from_key_file(data_dir / "outbox.key"),
                      recover_leases=recover_leases)
    except (ValueError, sqlite3.Error, OSError) as e:
        raise ConfigError(f"{data_dir}: the outbox cannot be opened: {e}") from e


def read_token(path: str | None) -> str | None:
    """The terminal's bearer token; a profile that names a file we cannot read stops start-up
    (starting without it would queue every submission behind a 401 for ever)."""
    if not path:
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"backoffice.token_file: {path} cannot be read: {e.strerror}") from e
    if not token:
        raise ConfigError(f"backoffice.token_file: {path} is empty")
    return token


class Terminal:
    def __init__(self, profile: Profile, options: TerminalOptions) -> None:
        self.profile = profile
        self.options = options
        self.timings = options.timings or profile.timings
        data_dir = options.data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"{data_dir}: cannot create the data directory: {e.strerror}") from e
        catalogue = load_catalogue()
        self.services: list[Service] = [catalogue.get(sid) for sid in profile.services]
        self.devices = options.devices or build_devices(profile, data_dir, options.pace)
        self.audit = AuditLog(data_dir / "audit.jsonl", options.clock)
        self.health = DeviceHealth(self.devices, self.timings.health_poll_s, self._status_changed)
        self.outbox = open_outbox(data_dir)
        token = read_token(options.token_file)
        self.backoffice = BackOfficeClient(
            options.backoffice_url, token=token, timeout_s=self.timings.backoffice_timeout_s
        )
        self.sync = SyncWorker(
            self.outbox,
            HttpTransport(self.backoffice.envelopes_url, headers=self.backoffice.headers),
            idle_poll_s=max(0.05, min(2.0, self.timings.health_poll_s)),
        )
        self.inventory = LockerInventory(data_dir / "locker.json")
        if options.seed_demo_locker and self.devices.locker is not None:
            self._seed_demo_locker()
        self.session = Session(
            SessionDeps(
                terminal_id=profile.terminal.id,
                services=self.services,
                devices=self.devices,
                sink=self.outbox,
                statuses=self.health.snapshot,
                online=lambda: self.sync.online,
                directory=self.backoffice,
                inventory=self.inventory,
                audit=self.audit,
                timings=self.timings,
                clock=options.clock,
                default_language=profile.languages.default,
                high_contrast=profile.branding.high_contrast,
                on_submitted=self.sync.notify,
                maintenance=profile.hours.maintenance_minutes(),
                receipt_qr_prefix=profile.backoffice.receipt_qr_prefix,
            )
        )

    def _status_changed(self, kind: str, status: DeviceStatus) -> None:
        self.audit.record("device_status_changed", device=kind, state=status.state.value,
                          reason=status.reason)

    def _seed_demo_locker(self) -> None:
        """The demo's locker holds one certificate for each demo citizen."""
        if self.inventory.items():
            return
        for door, person in enumerate(DEMO_CITIZENS, start=1):
            self.inventory.load(
                LockerItem(door, citizen_hash(person.id_number), "营业执照", "Business licence")
            )

    def start(self) -> None:
        purged = self.outbox.purge_delivered(self.timings.delivered_retention_s)
        if purged:
            log.info("purged %d delivered envelopes past retention", purged)
        self.health.start()
        self.sync.start()

    def stop(self) -> None:
        self.session.close()
        self.sync.stop()
        self.health.stop()
        self.outbox.close()
        self.audit.close()
