"""Named scenes: a real session driven with fakes to the state a screen shows.

`kiosk screenshot` and the UI tests use these, so what is drawn comes from the real state
machine, not from hand-made view objects.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices import registry
from devices.camera.fake import FakeCamera
from devices.camera.protocol import FaceOutcome
from devices.certificate_printer.fake import FakeCertificatePrinter
from devices.fitted import DeviceSet
from devices.id_reader.fake import FakeIdReader
from devices.id_reader.protocol import ReadFailure
from devices.id_reader.simulator import DEMO_CITIZENS
from devices.locker.fake import FakeLocker
from devices.printer.fake import FakePrinter
from devices.printer.protocol import PrintFailure
from devices.status import DeviceStatus
from kiosk.config.catalogue import Intent, load_catalogue
from kiosk.config.profile import Profile
from kiosk.config.settings import FakeClock
from kiosk.health.monitor import HealthMonitor
from kiosk.locker.layout import profile_layout
from kiosk.records.locker_store import LockerInventory
from kiosk.session import Session, SessionDeps, State
from kiosk.session.ports import AnsweringCertificateIssuer, AnsweringFaceVerifier, FaceAnswer
from kiosk.terminal import accepted_documents


@dataclass
class MemorySink:
    """Keeps envelopes in memory: scenes never write to disk."""

    envelopes: list[tuple[str, bytes, str]] = field(default_factory=list)

    def enqueue(self, kind: str, payload: bytes, idempotency_key: str) -> object:
        self.envelopes.append((kind, payload, idempotency_key))
        return None


class _Directory:
    """The back office's answer to "my applications", or None while offline."""

    def __init__(self, online: list[bool | None]) -> None:
        self.online = online
        self.applications = [
            {"tracking_no": "SH-PD-0001-20261127-3F9A21C0", "service_id": "open_coffee_shop",
             "status": "in_review"},
            {"tracking_no": "SH-PD-0001-20261020-81B7E2D4", "service_id": "household_proof",
             "status": "completed"},
        ]

    def applications_for(self, citizen_hash: str) -> list[dict[str, str]] | None:
        return None if self.online[0] is False else self.applications


@dataclass
class SceneRig:
    session: Session
    clock: FakeClock
    health: HealthMonitor
    reader: FakeIdReader
    printer: FakePrinter
    camera: FakeCamera
    locker: FakeLocker
    online: list[bool | None]  # a cell the session's `online` reads
    a4: FakeCertificatePrinter

    def tick(self, seconds: float = 0.0) -> None:
        self.clock.advance(seconds)
        self.health.refresh()
        self.session.tick()

    def identify(self) -> None:
        self.reader.present(DEMO_CITIZENS[0])
        self.camera.show_face(FaceOutcome.CAPTURED)
        self.tick()
        self.consent()
        self.tick()

    def consent(self) -> None:
        """The one tap of the face check's consent, when it is asked."""
        if self.session.state is State.CONSENT:
            self.session.consent_face(True)


def make_rig(profile: Profile) -> SceneRig:
    clock = FakeClock(wall_start=time.time())  # receipts and tracking numbers say today
    fakes: dict[str, Any] = {kind.name: kind.fake() for kind in registry.KINDS}
    fakes["locker"] = FakeLocker(24)
    reader, printer, camera, locker = (fakes["id_reader"], fakes["printer"], fakes["camera"],
                                       fakes["locker"])
    devices = DeviceSet.around(fakes)
    health = HealthMonitor(devices)
    health.refresh()
    online: list[bool | None] = [None]
    inventory = LockerInventory(None)
    inventory.load(7, "DEMO-0007", "营业执照", "Business licence", DEMO_CITIZENS[0].id_number,
                   now=clock.wall(), keep_s=30 * 86400)
    session = Session(SessionDeps(
        terminal_id=profile.terminal.id,
        services=[load_catalogue().get(s) for s in profile.services],
        devices=devices, sink=MemorySink(), statuses=health.by_kind,
        online=lambda: online[0], directory=_Directory(online), inventory=inventory,
        faces=AnsweringFaceVerifier(), certificates=AnsweringCertificateIssuer(),
        clock=clock, timings=profile.timings, default_language=profile.languages.default,
        high_contrast=profile.branding.high_contrast,
        documents=accepted_documents(profile, devices),
        door_labels={c.number: c.label for c in profile_layout(profile)},
        ratings=True, ask_face_consent=True,
    ))
    return SceneRig(session, clock, health, reader, printer, camera, locker, online,
                    fakes["certificate_printer"])


def _home(r: SceneRig) -> None:
    r.session.touch()  # already touched by build_scene: a no-op kept for reading order


def _services(r: SceneRig) -> None:
    _home(r)
    r.session.choose_intent(Intent.APPLY)


def _identify(r: SceneRig) -> None:
    _services(r)
    r.session.choose("household_proof")
    r.tick(3)


def _verify(r: SceneRig) -> None:
    _identify(r)
    r.reader.present(DEMO_CITIZENS[0])
    r.tick()
    r.tick(2)


def _identify_passport(r: SceneRig) -> None:
    """A passport on the reader whose chip wants its data-page details."""
    _identify(r)
    r.reader.fail_next(ReadFailure.ACCESS_KEY_NEEDED)
    r.tick()


def _verify_failed(r: SceneRig) -> None:
    """The face did not match the document, as often as allowed: staff are asked for."""
    assert isinstance(r.session.d.faces, AnsweringFaceVerifier)
    r.session.d.faces.answer = FaceAnswer("no_match", 0.71)
    _verify(r)
    for _ in range(r.session.d.timings.face_attempts):
        r.camera.show_face(FaceOutcome.CAPTURED)
        r.tick()


def _form(r: SceneRig) -> None:
    _services(r)
    r.session.choose("open_shop")
    r.session.choose("open_coffee_shop")
    r.identify()
    r.session.set_field("shop_name", "晨光咖啡" if r.session.language == "zh" else "Dawn Coffee")
    r.session.set_field("floor_area", "lt50")


def _confirm(r: SceneRig) -> None:
    _form(r)
    r.session.set_field("shop_address", "世纪大道100号" if r.session.language == "zh"
                        else "100 Century Avenue")
    r.session.submit_form()


def _result(r: SceneRig) -> None:
    _confirm(r)
    r.session.confirm()


def _result_offline(r: SceneRig) -> None:
    r.online[0] = False
    _result(r)


def _result_print_failed(r: SceneRig) -> None:
    _confirm(r)
    r.printer.fail_next(PrintFailure.PAPER_OUT)
    r.session.confirm()


def _confirm_certificate(r: SceneRig) -> None:
    """户籍证明, identified and the face matched: issued and printed here on confirming."""
    _services(r)
    r.session.choose("household_proof")
    r.identify()


def _result_certificate(r: SceneRig) -> None:
    _confirm_certificate(r)
    r.session.confirm()


def _result_certificate_failed(r: SceneRig) -> None:
    """The certificate was issued but the A4 tray ran out; staff refilled it: print again."""
    _confirm_certificate(r)
    r.a4.fail_next(PrintFailure.PAPER_OUT)
    r.session.confirm()


def _result_not_eligible(r: SceneRig) -> None:
    issuer = r.session.d.certificates
    assert isinstance(issuer, AnsweringCertificateIssuer)
    issuer.not_eligible = "not_on_register"
    _result_certificate(r)


def _collect_code(r: SceneRig) -> None:
    """我要取, waiting for a document; the screenshot then opens the pickup-code keypad."""
    _home(r)
    r.session.choose_intent(Intent.COLLECT)
    r.tick()


def _result_locker(r: SceneRig) -> None:
    _home(r)
    r.session.choose_intent(Intent.COLLECT)
    r.identify()


class HeldSteps:
    """Runs the first `allow` steps, then holds the rest: the session shows what it shows
    while a step is in flight."""

    def __init__(self, allow: int) -> None:
        self.allow = allow

    def run(self, work: Callable[[], None]) -> None:
        if self.allow > 0:
            self.allow -= 1
            work()


def _result_locker_opening(r: SceneRig) -> None:
    _home(r)
    r.session.choose_intent(Intent.COLLECT)
    r.reader.present(DEMO_CITIZENS[0])
    r.camera.show_face(FaceOutcome.CAPTURED)
    r.tick()
    r.consent()
    # The face is captured and verified, the citizen's item found; the door is still opening.
    r.session.d.steps = HeldSteps(allow=3)
    r.tick()


def _result_query(r: SceneRig) -> None:
    _home(r)
    r.session.choose_intent(Intent.QUERY)
    r.reader.present(DEMO_CITIZENS[0])
    r.tick()


def _goodbye(r: SceneRig) -> None:
    _result(r)
    r.reader.remove_card()  # the citizen took their card
    r.session.finish()
    r.session.skip_rating()
    r.tick()


def _countdown(r: SceneRig) -> None:
    _services(r)
    t = r.session.d.timings
    r.tick(t.idle_before_countdown_s + t.countdown_s / 4)


def _countdown_no_more(r: SceneRig) -> None:
    """Every extension used: the countdown runs and "more time" is spent."""
    _services(r)
    t = r.session.d.timings
    for _ in range(t.max_extensions):
        r.session.extend_time()
    r.tick(t.idle_before_countdown_s + t.countdown_s / 4)


def _form_incomplete(r: SceneRig) -> None:
    """Next tapped with a field left empty: the field says so, and the notice says where."""
    _form(r)
    r.session.submit_form()


def _home_offline(r: SceneRig) -> None:
    r.online[0] = False
    _home(r)


def _consent(r: SceneRig) -> None:
    """The document is read; the face check waits for the citizen's consent."""
    _identify(r)
    r.reader.present(DEMO_CITIZENS[0])
    r.tick()


def _result_delivered(r: SceneRig) -> None:
    """Submitted, and the back office has it (the outbox delivered it while the citizen is
    still on the result screen)."""
    r.session.d.delivered = lambda key: True
    _result(r)
    r.tick()


def _rate(r: SceneRig) -> None:
    _result(r)
    r.reader.remove_card()  # the citizen took their card
    r.session.finish()


def _rate_bad(r: SceneRig) -> None:
    _rate(r)
    r.session.rate(2)
    r.session.toggle_reason("waited_too_long")


def _goodbye_card_left(r: SceneRig) -> None:
    """The citizen walked away with their card still on the reader."""
    _result(r)
    r.session.finish()
    r.session.skip_rating()
    r.tick()


def _staff_after_hours(r: SceneRig) -> None:
    """A call for help at 3 a.m.: nobody is on duty, the hotline is given."""
    r.session.d.staffed = (0, 0)  # an empty window: never staffed
    _services(r)
    r.session.call_staff()


def _staff_coming(r: SceneRig) -> None:
    """A call for help taken at the back office: someone is on the way."""
    r.session.d.staffed = None
    _services(r)
    r.session.call_staff()
    r.session.call_taken(r.session.call_id)


def _out_of_service(r: SceneRig) -> None:
    r.reader.set_status(DeviceStatus.fault("sam_no_answer", "SAM module does not answer"))
    r.tick()


def _out_of_service_storage(r: SceneRig) -> None:
    r.session.d.storage_free = lambda: 0  # the data directory's disk is full
    r.tick()


SCENES: dict[str, Callable[[SceneRig], None]] = {
    "attract": lambda r: None,
    "home": _home,
    "home-offline": _home_offline,
    "services": _services,
    "identify": _identify,
    "identify-passport": _identify_passport,
    "verify": _verify,
    "verify-failed": _verify_failed,
    "form": _form,
    "confirm": _confirm,
    "result": _result,
    "result-offline": _result_offline,
    "result-print-failed": _result_print_failed,
    "confirm-certificate": _confirm_certificate,
    "result-certificate": _result_certificate,
    "result-certificate-failed": _result_certificate_failed,
    "result-not-eligible": _result_not_eligible,
    "collect-code": _collect_code,
    "result-locker": _result_locker,
    "result-locker-opening": _result_locker_opening,
    "result-query": _result_query,
    "countdown": _countdown,
    "countdown-no-more": _countdown_no_more,
    "form-incomplete": _form_incomplete,
    "form-typing": _form,
    "goodbye": _goodbye,
    "consent": _consent,
    "result-delivered": _result_delivered,
    "rate": _rate,
    "rate-bad": _rate_bad,
    "goodbye-card-left": _goodbye_card_left,
    "staff-after-hours": _staff_after_hours,
    "staff-coming": _staff_coming,
    "out_of_service": _out_of_service,
    "out-of-service-storage": _out_of_service_storage,
}


IDLE_SCENES = ("attract", "out_of_service", "out-of-service-storage")


def build_scene(name: str, profile: Profile, *, lang: str = "zh", elder: bool = False,
                high_contrast: bool = False) -> SceneRig:
    if name not in SCENES:
        raise ValueError(f"unknown screen {name!r}; choose one of: {', '.join(SCENES)}")
    rig = make_rig(profile)
    s = rig.session
    if name not in IDLE_SCENES:
        s.touch()  # preferences belong to a session: set them once it has begun
    s.set_language(lang)
    s.set_elder(elder)
    s.set_high_contrast(high_contrast)
    SCENES[name](rig)
    return rig
