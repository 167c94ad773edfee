"""Citizen walks shared by the session tests (the `rig` fixture is in conftest.py)."""

from __future__ import annotations

from typing import Any

from devices.camera.protocol import FaceOutcome
from devices.id_reader.protocol import Identity
from kiosk.config.catalogue import Intent, LocalizedText, Service, load_catalogue
from kiosk.session import Session, State


def identify(rig: Any, citizen: Identity) -> None:
    """The card is read on one tick, the citizen consents to the face check (one tap, once a
    visit) and the face is captured on the next tick."""
    rig.reader.present(citizen)
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    consent(rig)
    rig.tick()


def consent(rig: Any) -> None:
    """The one tap of the face check's consent, when it is asked."""
    if rig.session.state.value == "consent":
        rig.session.consent_face(True)


# A service with no form that ends with an application receipt (the catalogue's end with a
# form or a certificate): the rig offers it besides the catalogue.
RECEIPT_SERVICE = "test_receipt"


def receipt_service() -> Service:
    return load_catalogue().get("household_proof").model_copy(update={
        "id": RECEIPT_SERVICE, "output": "receipt", "issues": None,
        "needs": ("id_reader", "camera", "printer"),
        "title": LocalizedText(zh="测试申请", en="Test application")})


def to_identify_household_proof(rig: Any, service_id: str = "household_proof") -> Session:
    """touch -> 我要办 -> 户籍证明 (or another service): the identify screen, waiting for a
    document."""
    s: Session = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose(service_id)
    assert s.state is State.IDENTIFY
    return s


def to_confirm_household_proof(rig: Any, citizen: Identity,
                               service_id: str = "household_proof") -> Session:
    """touch -> 我要办 -> 户籍证明 -> card + face: the confirm screen."""
    s = to_identify_household_proof(rig, service_id)
    identify(rig, citizen)
    assert s.state is State.CONFIRM, (s.state, s.notice)
    return s


def to_confirm_receipt(rig: Any, citizen: Identity) -> Session:
    """The confirm screen of an application that ends with a receipt."""
    return to_confirm_household_proof(rig, citizen, RECEIPT_SERVICE)


def load_item(rig: Any, door: int, citizen: Identity, title_zh: str = "营业执照",
              title_en: str = "Licence") -> None:
    """Staff have loaded the citizen's certificate into `door` (the store and the locker)."""
    rig.inventory.load(door, f"APP-{door:04d}", title_zh, title_en, citizen.id_number,
                       now=rig.clock.wall(), keep_s=30 * 86400)


def open_door_7(rig: Any, citizen: Identity) -> Session:
    """我要取 with a certificate loaded in door 7: the door is open, waiting to be closed."""
    load_item(rig, 7, citizen, "营业执照", "Licence")
    rig.locker.load(7)
    s: Session = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert s.state is State.HANDOVER and s.view().outcome is not None
    return s
