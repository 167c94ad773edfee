"""What the session needs from the rest of the terminal, as small interfaces."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from devices.fitted import DeviceSet
from devices.status import DeviceStatus
from kiosk.config.catalogue import Service
from kiosk.config.settings import Clock, SystemClock, Timings
from kiosk.records.audit import AuditLog
from kiosk.records.locker_store import LockerInventory
from kiosk.records.submission import EnvelopeSink
from kiosk.session.steps.runner import InlineSteps, StepRunner


class ApplicationDirectory(Protocol):
    """The back office's answer to "what are my applications" (a network call)."""

    def applications_for(self, citizen_hash: str) -> Sequence[Mapping[str, str]] | None:
        """The citizen's applications, or None when the back office cannot be reached."""
        ...


@dataclass
class SessionDeps:
    terminal_id: str
    services: Sequence[Service]  # offered, in the profile's order
    devices: DeviceSet
    sink: EnvelopeSink
    statuses: Callable[[], Mapping[str, DeviceStatus]]
    online: Callable[[], bool | None] = lambda: None
    directory: ApplicationDirectory | None = None
    inventory: LockerInventory = field(default_factory=lambda: LockerInventory(None))
    audit: AuditLog = field(default_factory=lambda: AuditLog(None))
    timings: Timings = field(default_factory=Timings)
    clock: Clock = field(default_factory=SystemClock)
    default_language: str = "zh"
    high_contrast: bool = False
    on_submitted: Callable[[], None] = lambda: None  # e.g. wake the sync worker
    maintenance: tuple[int, int] | None = None  # minutes after midnight, local time
    receipt_qr_prefix: str = ""  # the receipt's QR is this + the tracking number
    steps: StepRunner = field(default_factory=InlineSteps)  # ThreadedSteps in the terminal
    # What a citizen can identify with here (resident_id, residence_permit, passport,
    # bank_card, qr_code), as the identify screen says; empty: an ID card.
    documents: tuple[str, ...] = ()
