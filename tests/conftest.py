"""Shared test fixtures: a session wired to in-memory fakes and a fake clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings

from screens.env import prepare

# Kivy reads its environment at import: prepare it (offscreen, 1080x1920) before any test
# module imports Kivy.
prepare(offscreen=True)
# An undeclared audit event or field fails here, in the tests (and in the processes they
# start), never in the field.
os.environ["KIOSK_AUDIT_STRICT"] = "1"

# Property-based tests draw the same examples on every run (a flaky test is a defect) and
# keep no example database in the working tree.
settings.register_profile("kiosk", derandomize=True, database=None, deadline=None)
settings.load_profile("kiosk")

from backoffice import RunningBackOffice  # noqa: E402
from devices import registry  # noqa: E402
from devices.camera.fake import FakeCamera  # noqa: E402
from devices.certificate_printer.fake import FakeCertificatePrinter  # noqa: E402
from devices.fitted import DeviceSet  # noqa: E402
from devices.id_reader.fake import FakeIdReader  # noqa: E402
from devices.id_reader.simulator import DEMO_CITIZENS  # noqa: E402
from devices.locker.fake import FakeLocker  # noqa: E402
from devices.printer.escpos.peer import EscposPeer  # noqa: E402
from devices.printer.fake import FakePrinter  # noqa: E402
from kiosk.config.catalogue import load_catalogue  # noqa: E402
from kiosk.config.settings import FakeClock, Timings  # noqa: E402
from kiosk.demo.postgres import PostgresServer  # noqa: E402
from kiosk.health.monitor import HealthMonitor  # noqa: E402
from kiosk.records.audit import AuditLog  # noqa: E402
from kiosk.records.locker_store import LockerInventory  # noqa: E402
from kiosk.session import Session, SessionDeps  # noqa: E402
from kiosk.session.ports import (  # noqa: E402
    AnsweringCertificateIssuer,
    AnsweringFaceVerifier,
)
from tests.flows import receipt_service  # noqa: E402


@dataclass
class ListSink:
    """An outbox stand-in for state-machine unit tests (the real one has its own tests)."""

    envelopes: list[tuple[str, bytes, str]] = field(default_factory=list)
    fail: bool = False

    def enqueue(self, kind: str, payload: bytes, idempotency_key: str) -> object:
        if self.fail:
            raise OSError(28, "No space left on device")
        if all(key != idempotency_key for _, _, key in self.envelopes):  # as the outbox does
            self.envelopes.append((kind, payload, idempotency_key))
        return None


@dataclass
class Rig:
    session: Session
    clock: FakeClock
    reader: FakeIdReader
    printer: FakePrinter
    locker: FakeLocker
    camera: FakeCamera
    sink: ListSink
    health: HealthMonitor
    inventory: LockerInventory
    audit: AuditLog
    faces: AnsweringFaceVerifier
    certificates: AnsweringCertificateIssuer

    @property
    def certificate_printer(self) -> FakeCertificatePrinter:
        device: FakeCertificatePrinter = self.session.d.devices.certificate_printer._device  # type: ignore[union-attr]
        return device

    def tick(self, seconds: float = 0.0) -> None:
        self.clock.advance(seconds)
        self.health.refresh()
        self.session.tick()

    def refit(self, kind: str, device: object, poll_interval_s: float | None = None) -> None:
        """Fit another device of `kind` (e.g. a printer that hangs), behind new workers."""
        old = self.session.d.devices
        given = {w.kind: w._device for w in old if w.kind != kind}
        given[kind] = device
        old.stop()
        devices = DeviceSet.around(given, poll_interval_s=poll_interval_s)
        self.health = HealthMonitor(devices)
        self.session.d.devices, self.session.d.statuses = devices, self.health.by_kind
        self.health.refresh()


@pytest.fixture
def rig() -> Iterator[Rig]:
    clock = FakeClock()
    fakes = {kind.name: kind.fake() for kind in registry.KINDS}  # one fake of every kind
    reader, printer, locker, camera = (fakes["id_reader"], fakes["printer"], fakes["locker"],
                                       fakes["camera"])
    devices = DeviceSet.around(fakes)
    health = HealthMonitor(devices)
    health.refresh()
    sink = ListSink()
    inventory = LockerInventory(None)
    audit = AuditLog(None, clock, strict=True)
    timings = Timings(idle_before_countdown_s=30, countdown_s=20, goodbye_s=5)
    faces = AnsweringFaceVerifier()
    certificates = AnsweringCertificateIssuer()
    deps = SessionDeps(
        terminal_id="TEST-0001",
        services=(*load_catalogue().service, receipt_service()),
        devices=devices,
        sink=sink,
        statuses=health.by_kind,
        inventory=inventory,
        audit=audit,
        timings=timings,
        clock=clock,
        faces=faces,
        certificates=certificates,
    )
    session = Session(deps)
    yield Rig(session, clock, reader, printer, locker, camera, sink, health, inventory, audit,
              faces, certificates)
    session.close()
    session.d.devices.stop()


@pytest.fixture
def citizen():  # type: ignore[no-untyped-def]
    return DEMO_CITIZENS[0]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the session (started only when a test asks for it),
    stopped and removed at the end."""
    from kiosk.demo.postgres import postgres_server

    with postgres_server(fsync=False) as server:  # test data: durability is not the point
        yield server


@pytest.fixture
def pg_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A new, empty database of the session's server for this test."""
    import re

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50] + \
        f"_{next(_databases)}"
    return postgres.create_database(name)


_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def backoffice_on_each_engine(request: pytest.FixtureRequest,
                              tmp_path: Path) -> Iterator[RunningBackOffice]:
    """The reference back office on loopback, once on its SQLite files and once on a fresh
    PostgreSQL database of the session's server."""
    from backoffice import start_in_thread

    database = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    running = start_in_thread("127.0.0.1", 0, tmp_path / "bo", database=database)
    yield running
    running.stop()


@pytest.fixture
def reference_backoffice(tmp_path: Path) -> Iterator[RunningBackOffice]:
    """The reference back office on loopback, its files in tmp_path/bo."""
    from backoffice import start_in_thread

    running = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    yield running
    running.stop()


@pytest.fixture
def office(reference_backoffice: RunningBackOffice) -> RunningBackOffice:
    """The reference back office, as the technician's tests call it."""
    return reference_backoffice


@pytest.fixture
def printer() -> Iterator[EscposPeer]:
    """The ESC/POS receipt printer's wire peer on loopback TCP."""
    peer = EscposPeer()
    yield peer
    peer.close()


@pytest.fixture
def no_pcscd(monkeypatch: pytest.MonkeyPatch) -> None:
    """pcscd is other tests' (they start it): here it is not running, whatever the machine."""
    import smartcard.System
    from smartcard.pcsc.PCSCExceptions import EstablishContextException

    def readers() -> list[str]:
        raise EstablishContextException(0x8010001D)

    monkeypatch.setattr(smartcard.System, "readers", readers)
