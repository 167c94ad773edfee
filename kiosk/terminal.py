"""The composition root: one terminal = profile + devices (each behind its worker) + outbox +
sync + session.

Screens and the headless simulator are both built on top of a `Terminal`; neither creates
devices, databases or HTTP sessions of its own.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devices.config import BuildContext
from devices.fitted import DeviceBuildError, DeviceSet, build_device_set
from devices.id_reader.qr.source import CameraQrSource
from devices.id_reader.qr.token import TokenVerifier
from devices.id_reader.sources import read_badge
from devices.status import StatusReport
from devices.worker import DeviceWorker
from kiosk.config.catalogue import Service, load_catalogue
from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile
from kiosk.config.settings import Clock, SystemClock, Timings
from kiosk.health.monitor import HealthMonitor
from kiosk.health.terminal import TerminalHealth
from kiosk.locker.layout import profile_layout
from kiosk.locker.loading import LockerDesk
from kiosk.locker.watch import LockerWatch
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.ops.heartbeat import Heartbeat
from kiosk.ops.remote_config import ConfigKeeper
from kiosk.records.audit import CHECKPOINT_KIND, AuditLog, Checkpoint
from kiosk.records.audit_keys import load_or_create_signing_key
from kiosk.records.citizen_key import FILE_NAME as CITIZEN_KEY_FILE
from kiosk.records.citizen_key import CitizenKey
from kiosk.records.dir_lock import DataDirLock
from kiosk.records.enrolment import QR_KEY_FILE
from kiosk.records.locker_store import LockerInventory, LockerKeyMismatch
from kiosk.records.print_journal import PrintJournal
from kiosk.records.staff_alerts import StaffAlerts
from kiosk.records.staff_pins import STAFF_PINS_FILE, StaffPins
from kiosk.records.submission import queue_event
from kiosk.records.used_tokens import UsedTokenStore
from kiosk.session import Session, SessionDeps
from kiosk.session.steps import StepRunner, ThreadedSteps
from kiosk.staff import StaffDesk
from kiosk.staff.console import StaffConsole
from offline_queue import FernetCipher, HttpTransport, Outbox, SyncWorker
from offline_queue.envelope import DELIVERED

log = logging.getLogger(__name__)


@dataclass
class TerminalOptions:
    data_dir: Path
    backoffice_url: str
    timings: Timings | None = None  # None: the profile's
    clock: Clock = field(default_factory=SystemClock)
    devices: DeviceSet | None = None  # None: built from the profile
    token_file: str | None = None  # the terminal's bearer token, written at enrolment
    citizen_key_file: str | None = None  # None: the profile's, else the data directory's
    steps: StepRunner | None = None  # None: each session step on a thread of its own
    keeper: ConfigKeeper | None = None  # remote configuration (kiosk run); None: none taken
    config_version: int | None = None  # the remote configuration version this start runs


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


def citizen_key_path(profile: Profile, data_dir: Path, given: str | None = None) -> Path:
    """Where the terminal's citizen-hash key is: given, the profile's, or the data dir's."""
    return Path(given or profile.backoffice.citizen_key_file or data_dir / CITIZEN_KEY_FILE)


def open_inventory(path: Path, key: CitizenKey | None) -> LockerInventory:
    """The locker's records; a store made under another key is a one-line ConfigError."""
    try:
        return LockerInventory(path, key)
    except (LockerKeyMismatch, sqlite3.Error) as e:
        raise ConfigError(str(e)) from e


def free_bytes(path: Path) -> int | None:
    """Free space for an unprivileged writer where `path` is; None when it cannot be read."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _logo(profile: Profile) -> bytes | None:
    """The branding logo's bytes for the receipts (the profile checked the file exists)."""
    if profile.branding.logo is None:
        return None
    try:
        return Path(profile.branding.logo).read_bytes()
    except OSError as e:
        raise ConfigError(f"branding.logo: {profile.branding.logo} cannot be read: "
                          f"{e.strerror}") from e


def read_qr_key(profile: Profile, data_dir: Path) -> TokenVerifier | None:
    """The back office's key for identity QR codes, when the profile names one; used tokens
    are remembered in the data directory."""
    path = profile.backoffice.qr_public_key_file
    if not path and (data_dir / QR_KEY_FILE).is_file():
        path = str(data_dir / QR_KEY_FILE)  # where enrolment keeps it when the profile is silent
    if not path:
        return None
    try:
        return TokenVerifier(Path(path).read_bytes(),
                             used=UsedTokenStore(data_dir / "qr-tokens-used.db"))
    except (OSError, ValueError, sqlite3.Error) as e:
        raise ConfigError(f"backoffice.qr_public_key_file: {path}: {e}") from e


def with_qr_source(devices: DeviceSet, verifier: TokenVerifier | None,
                   timeout_s: float) -> DeviceSet:
    """With a camera and the QR key, the camera is also an identity source (a worker of its
    own, reading through the camera's)."""
    if verifier is None or devices.camera is None:
        return devices
    source = DeviceWorker("id_reader.qr", "id_reader",
                          CameraQrSource(devices.camera, verifier, timeout_s),
                          call_timeout_s=timeout_s + 1)
    return DeviceSet([*devices, source])


def accepted_documents(profile: Profile, devices: DeviceSet) -> tuple[str, ...]:
    """What a citizen can identify with at this terminal, in the order to show it."""
    accepted = {d for c in profile.devices.configs("id_reader") for d in c.accepts()}
    if any(w.name == "id_reader.qr" for w in devices):
        accepted.add("qr_code")
    order = ("resident_id", "residence_permit", "passport", "bank_card", "qr_code")
    return tuple(d for d in order if d in accepted)


def build_devices(profile: Profile, data_dir: Path, timings: Timings, clock: Clock,
                  on_change: Callable[[str, StatusReport], None] | None = None,
                  kinds: tuple[str, ...] | None = None) -> DeviceSet:
    """The profile's devices, each behind its worker (only `kinds`, when given); a simulator
    where none is allowed or an adapter this build lacks is a one-line ConfigError."""
    fitted = [(k, c) for k, c in profile.devices.fitted() if kinds is None or k in kinds]
    try:
        return build_device_set(
            fitted, BuildContext(data_dir), allow_simulators=profile.allow_simulators,
            call_timeout_s=timings.device_call_timeout_s, clock=clock.now,
            on_change=on_change)
    except DeviceBuildError as e:
        raise ConfigError(f"profile {profile.profile}: {e}") from e


class Terminal(TerminalHealth):
    def __init__(self, profile: Profile, options: TerminalOptions) -> None:
        self.profile = profile
        self.options = options
        self.timings = options.timings or profile.timings
        self.alerts: StaffAlerts | None = None  # once the outbox is open
        self.delivering = False  # the sync worker and heartbeat started (start_deliveries)
        self._stopped = False
        data_dir = options.data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            data_dir.chmod(0o700)  # its records are the terminal's alone, whatever their mode
        except OSError as e:
            raise ConfigError(f"{data_dir}: cannot create the data directory: {e.strerror}") from e
        self._dir_lock = DataDirLock(data_dir)  # held until stop(): one process per directory
        try:
            self._open(profile, options)
        except BaseException:
            self._dir_lock.release()
            raise

    def _open(self, profile: Profile, options: TerminalOptions) -> None:
        data_dir = options.data_dir
        catalogue = load_catalogue()
        self.services: list[Service] = [catalogue.get(sid) for sid in profile.services]
        self.audit = AuditLog(data_dir / "audit.jsonl", options.clock,
                              signing_key=load_or_create_signing_key(data_dir),
                              on_checkpoint=self._checkpoint_to_backoffice)
        self.devices = options.devices or build_devices(
            profile, data_dir, self.timings, options.clock, self._status_changed)
        try:
            self.devices = with_qr_source(self.devices, read_qr_key(profile, data_dir),
                                          self.timings.device_call_timeout_s)
            self.health = HealthMonitor(self.devices)
            self.health.refresh()  # the first statuses, before anything is offered
            self.outbox = open_outbox(data_dir)
            self.alerts = StaffAlerts(self.outbox, profile.terminal.id, options.clock)
            for worker in self.devices:  # what is wrong at start is said at start
                self.alerts.device(worker.name, worker.report().status)
            token = read_token(options.token_file)
            citizen_key = CitizenKey.from_file(
                citizen_key_path(profile, data_dir, options.citizen_key_file))
            self.inventory = open_inventory(data_dir / "locker.db", citizen_key)
        except BaseException:
            self.devices.stop()  # nothing started here outlives a refused start
            self.audit.close()
            raise
        self.backoffice = BackOfficeClient(
            options.backoffice_url, token=token, timeout_s=self.timings.backoffice_timeout_s,
            verify=profile.backoffice.tls_verify)
        self.sync = SyncWorker(
            self.outbox,
            HttpTransport(self.backoffice.envelopes_url, headers=self.backoffice.headers,
                          session=self.backoffice.new_session),
            idle_poll_s=self.timings.outbox_poll_s,
        )
        self.journal = PrintJournal(data_dir / "print-journal.db")
        self.session = Session(
            SessionDeps(
                terminal_id=profile.terminal.id,
                services=self.services,
                devices=self.devices,
                sink=self.outbox,
                statuses=self.health.by_kind,
                online=lambda: self.sync.online,
                directory=self.backoffice,
                faces=self.backoffice,
                certificates=self.backoffice,
                calls=self.backoffice,
                inventory=self.inventory,
                citizen_key=citizen_key,
                journal=self.journal,
                audit=self.audit,
                timings=self.timings,
                clock=options.clock,
                default_language=profile.languages.default,
                high_contrast=profile.branding.high_contrast,
                on_submitted=self.sync.notify,
                maintenance=profile.hours.maintenance_minutes(),
                receipt_qr_prefix=profile.backoffice.receipt_qr_prefix,
                receipt_logo=_logo(profile),
                door_labels={c.number: c.label for c in profile_layout(profile)},
                steps=options.steps or ThreadedSteps(),
                documents=accepted_documents(profile, self.devices),
                storage_free=lambda: free_bytes(data_dir),
                delivered=lambda key: self.outbox.status_of(key) == DELIVERED,
                staffed=profile.hours.staffed_minutes(),
                ratings=True,
                ask_face_consent=True,
            )
        )
        # Staff load and retrieve locker items from the console (the watch keeps off the door
        # they are at).
        self.locker_desk = None if self.devices.locker is None else LockerDesk(
            self.devices.locker, self.inventory, self.outbox, self.audit, options.clock,
            profile.terminal.id, profile_layout(profile),
            call_timeout_s=self.timings.device_call_timeout_s * 2,
            close_wait_s=self.timings.door_close_wait_s)
        # Staff on the terminal: their PINs beside the other records, the console's view.
        self.staff_pins = StaffPins(data_dir / STAFF_PINS_FILE)
        self.staff = StaffDesk(profile.staff, self.staff_pins, self.audit, options.clock,
                               profile.terminal.id, self.timings.staff_idle_s,
                               tellers=self.backoffice, badges=self._read_badge)
        self.console = StaffConsole(self.staff, self.devices, self.outbox, self.sync,
                                    self.inventory, options.clock,
                                    storage_free=lambda: free_bytes(data_dir),
                                    door_left_open_s=self.timings.door_close_wait_s,
                                    lockers=self.locker_desk,
                                    assignee=lambda no: self.backoffice.assignee_of(no)
                                    if self.backoffice is not None else None,
                                    selftest=self.run_selftest)
        self.started_at = time.monotonic()
        self.restart_requested = False
        self.restart_wanted = False  # a restart waiting for nobody to be at the screen
        self.restart_hook: Callable[[], None] | None = None  # the UI's: stop, to be restarted
        self.heartbeat = Heartbeat(self.backoffice, self.heartbeat_body, self.timings.heartbeat_s,
                                   keeper=options.keeper, idle=self.idle,
                                   restart=self.request_restart,
                                   restart_wanted=lambda: self.restart_wanted,
                                   also=self.audit.checkpoint_if_due)
        locker = self.devices.locker
        self.locker_watch = None if locker is None else LockerWatch(
            self.inventory, locker, sink=self.outbox, audit=self.audit,
            terminal_id=profile.terminal.id, clock=options.clock,
            call_timeout_s=self.timings.device_call_timeout_s * 2,
            interval_s=self.timings.door_watch_s, in_use=lambda: self.session.door_intent,
            staff_at=lambda: self.locker_desk.busy if self.locker_desk is not None else None,
            pickup_codes=lambda: self.backoffice.pickup_codes(profile.terminal.id))

    def _checkpoint_to_backoffice(self, checkpoint: Checkpoint) -> None:
        """A signed checkpoint of the audit chain goes to the back office through the outbox.
        One made before the outbox is open stays in the log alone: the next signs all of it."""
        outbox = getattr(self, "outbox", None)
        if outbox is not None:
            tid = self.profile.terminal.id
            queue_event(outbox, CHECKPOINT_KIND, checkpoint.body(tid),
                        key=checkpoint.idempotency_key(tid))

    def request_restart(self, *, when_idle: bool = False) -> None:
        """Stop, so that the supervisor (systemd, kiosk supervise) starts the terminal again;
        `when_idle`: at the heartbeat's next moment with nobody at the screen."""
        if when_idle and not self.idle():
            self.restart_wanted = True
            return
        self.restart_requested = True
        if self.restart_hook is not None:
            self.restart_hook()

    def set_restart_hook(self, hook: Callable[[], None]) -> None:
        """How the UI stops; a restart asked for before the UI was up (the first heartbeat
        comes at start) is carried out now."""
        self.restart_hook = hook
        if self.restart_requested:
            hook()

    def _read_badge(self) -> bytes | None:
        return read_badge(self.devices.id_readers, self.timings.device_call_timeout_s)

    def _status_changed(self, name: str, report: StatusReport) -> None:
        status = report.status
        self.audit.record("device_status_changed", device=name, state=status.state.value,
                          reason=status.reason)
        if self.alerts is not None:
            self.alerts.device(name, status)

    def start(self, *, deliveries: bool = True) -> None:
        """Reconcile what the last run left (before any screen is shown), then start the
        devices' polling, the locker's watch and (`deliveries`) the sync worker and heartbeat:
        `kiosk run` leaves those to the UI, once its first frame is drawn."""
        abandoned = self._abandon_unfinished_prints()
        purged = self.outbox.purge_delivered(self.timings.delivered_retention_s)
        if purged:
            log.info("purged %d delivered envelopes past retention", purged)
        self.devices.start()
        findings = self.locker_watch.start() if self.locker_watch is not None else []
        stats = self.outbox.stats()
        self.audit.record(
            "startup_reconciled", leases_recovered=self.outbox.recovered_leases,
            prints_abandoned=abandoned,
            doors_settled=sum(f.settled and f.outcome != "to_staff" for f in findings),
            doors_to_staff=sum(not f.settled or f.outcome == "to_staff" for f in findings),
            parked=stats.parked)
        if deliveries:
            self.start_deliveries()

    def start_deliveries(self) -> None:
        """The sync worker and the heartbeat (once; again, or after stop, is a no-op)."""
        if not (self.delivering or self._stopped):
            self.delivering = True
            self.sync.start()
            self.heartbeat.start()

    def _abandon_unfinished_prints(self) -> int:
        # A receipt or certificate that was printing or interrupted when the terminal stopped
        # belongs to a citizen who has gone: never printed later, staff told.
        abandoned = self.journal.abandon_unfinished(self.options.clock.wall())
        for document, number in abandoned:
            if document == "certificate":
                self.audit.record("certificate_abandoned", serial=number)
            else:
                self.audit.record("receipt_abandoned", tracking_no=number)
            assert self.alerts is not None
            self.alerts.not_printed(document, number)
        return len(abandoned)

    def stop(self) -> None:
        self._stopped = True  # a late start_deliveries (the UI's) starts nothing now
        self.heartbeat.stop()
        self.session.close()
        if self.locker_watch is not None:
            self.locker_watch.stop()
        self.sync.stop()
        self.devices.stop()
        self.audit.close()  # before the outbox: its last checkpoint is queued there
        self.outbox.close()
        self.inventory.close()
        self.journal.close()
        self.staff_pins.close()
        self._dir_lock.release()
