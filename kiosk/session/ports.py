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
from kiosk.records.citizen_key import CitizenKey
from kiosk.records.locker_store import LockerInventory
from kiosk.records.print_journal import PrintJournal
from kiosk.records.submission import EnvelopeSink
from kiosk.session.steps.runner import InlineSteps, StepRunner


class ApplicationDirectory(Protocol):
    """The back office's answer to "what are my applications" (a network call)."""

    def applications_for(self, citizen_hash: str) -> Sequence[Mapping[str, str]] | None:
        """The citizen's applications, or None when the back office cannot be reached."""
        ...


FACE_DECISIONS = frozenset({"match", "no_match", "no_face_in_frame", "no_face_on_document",
                            "no_reference"})


@dataclass(frozen=True)
class FaceAnswer:
    """The back office's verdict on a face: one of FACE_DECISIONS, and how far apart the two
    faces were (for the audit; None when they could not be compared)."""

    decision: str
    distance: float | None = None


class CallDesk(Protocol):
    """The back office's word on a call for help (a network call)."""

    def call_status(self, key: str) -> str | None:
        """"open" or "taken"; None when the call is not there yet or nobody could answer."""
        ...


class FaceVerifier(Protocol):
    """The back office's face verification (a network call)."""

    def verify_face(self, document_number: str, live_frame: bytes,
                    document_photo: bytes | None) -> FaceAnswer | None:
        """Is the face in the frame the document's? None when nobody could answer."""
        ...


class AnsweringFaceVerifier:
    """A verifier that gives the answer it is set to (None: unreachable), for session tests and
    screen scenes; the terminal asks the back office (kiosk/ops/backoffice_client.py)."""

    def __init__(self, answer: FaceAnswer | None = FaceAnswer("match", 0.2)) -> None:
        self.answer = answer
        self.asked: list[tuple[str, bool]] = []  # (document number, with a document photo)

    def verify_face(self, document_number: str, live_frame: bytes,
                    document_photo: bytes | None) -> FaceAnswer | None:
        self.asked.append((document_number, document_photo is not None))
        return self.answer


@dataclass(frozen=True)
class IssueAnswer:
    """The back office's answer to "issue this certificate": the certificate as it gave it
    (serial, verification code, title, issuer, holder masked, district, issued_at), or why
    the citizen is not eligible (a reason code and the back office's words)."""

    certificate: Mapping[str, object] | None = None
    not_eligible: str | None = None
    reason: str = ""


CERTIFICATE_FIELDS = ("serial", "verification_code", "title_zh", "title_en", "issuer",
                      "holder", "district", "issued_at")


class CertificateIssuer(Protocol):
    """The back office issuing a certificate on the spot (a network call)."""

    verify_base_url: str  # where the paper's QR code sends whoever checks it

    def issue_certificate(self, service_id: str, tracking_no: str, id_number: str,
                          name: str) -> IssueAnswer | None:
        """Issued (or given again for the same tracking number), not eligible, or None when
        the back office cannot be reached or answers something else."""
        ...


class AnsweringCertificateIssuer:
    """Issues certificates numbered from 1 (or says `not_eligible`, or None: unreachable),
    for session tests and screen scenes; the terminal asks the back office."""

    verify_base_url = "http://127.0.0.1:8700"

    def __init__(self) -> None:
        self.not_eligible: str | None = None
        self.unreachable = False
        self.issued: dict[str, dict[str, object]] = {}  # by tracking number

    def issue_certificate(self, service_id: str, tracking_no: str, id_number: str,
                          name: str) -> IssueAnswer | None:
        if self.unreachable:
            return None
        if self.not_eligible:
            return IssueAnswer(not_eligible=self.not_eligible, reason="not on the register")
        cert = self.issued.setdefault(tracking_no, {
            "serial": f"HP2026{len(self.issued) + 1:06d}", "verification_code": "ABCD2345",
            "title_zh": "户籍证明", "title_en": "Household registration proof",
            "issuer": "上海市公安局浦东分局", "holder": name[:1] + "*", "district": "浦东新区",
            "issued_at": 1.8e9, "service_id": service_id, "tracking_no": tracking_no})
        return IssueAnswer(certificate=cert)


@dataclass
class SessionDeps:
    terminal_id: str
    services: Sequence[Service]  # offered, in the profile's order
    devices: DeviceSet
    sink: EnvelopeSink
    statuses: Callable[[], Mapping[str, DeviceStatus]]
    online: Callable[[], bool | None] = lambda: None
    directory: ApplicationDirectory | None = None
    faces: FaceVerifier | None = None
    certificates: CertificateIssuer | None = None
    calls: CallDesk | None = None  # whether a call for help has been taken
    inventory: LockerInventory = field(default_factory=lambda: LockerInventory(None))
    citizen_key: CitizenKey = field(default_factory=CitizenKey.random)  # the enrolled one
    journal: PrintJournal = field(default_factory=lambda: PrintJournal(None))
    audit: AuditLog = field(default_factory=lambda: AuditLog(None))
    timings: Timings = field(default_factory=Timings)
    clock: Clock = field(default_factory=SystemClock)
    default_language: str = "zh"
    high_contrast: bool = False
    on_submitted: Callable[[], None] = lambda: None  # e.g. wake the sync worker
    maintenance: tuple[int, int] | None = None  # minutes after midnight, local time
    receipt_qr_prefix: str = ""  # the receipt's QR is this + the tracking number
    receipt_logo: bytes | None = None  # the branding logo's file, printed atop each receipt
    door_labels: Mapping[int, str] = field(default_factory=dict)  # compartment -> "A-03"
    steps: StepRunner = field(default_factory=InlineSteps)  # ThreadedSteps in the terminal
    # What a citizen can identify with here (resident_id, residence_permit, passport,
    # bank_card, qr_code), as the identify screen says; empty: an ID card.
    documents: tuple[str, ...] = ()
    # Free bytes where the terminal keeps what citizens submit; None: not known (then no
    # session is refused for it).
    storage_free: Callable[[], int | None] = lambda: None
    # Whether the back office has the envelope of this idempotency key (the outbox's word).
    delivered: Callable[[str], bool] = lambda key: False
    staffed: tuple[int, int] | None = None  # staff on duty, minutes after midnight; None: always
    ratings: bool = False  # 好差评: ask every finished visit for a rating
    ask_face_consent: bool = False  # the separate consent (PIPL) before the face check
