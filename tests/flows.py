"""Citizen walks shared by the session tests (the `rig` fixture is in conftest.py)."""

from __future__ import annotations

from typing import Any

from devices.camera.protocol import FaceOutcome
from devices.id_reader.protocol import Identity
from kiosk.config.catalogue import Intent
from kiosk.records.locker_store import LockerItem
from kiosk.records.submission import citizen_hash
from kiosk.session import Session, State


def identify(rig: Any, citizen: Identity) -> None:
    """The card is read on one tick and the face captured on the next: no taps."""
    rig.reader.present(citizen)
    rig.camera.show_face(FaceOutcome.CAPTURED)
    rig.tick()
    rig.tick()


def to_identify_household_proof(rig: Any) -> Session:
    """touch -> 我要办 -> 户籍证明: the identify screen, waiting for a document."""
    s: Session = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("household_proof")
    assert s.state is State.IDENTIFY
    return s


def to_confirm_household_proof(rig: Any, citizen: Identity) -> Session:
    """touch -> 我要办 -> 户籍证明 -> card + face: the confirm screen."""
    s: Session = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("household_proof")
    identify(rig, citizen)
    assert s.state is State.CONFIRM
    return s


def open_door_7(rig: Any, citizen: Identity) -> Session:
    """我要取 with a certificate loaded in door 7: the door is open, waiting to be closed."""
    rig.inventory.load(LockerItem(7, citizen_hash(citizen.id_number), "营业执照", "Licence"))
    rig.locker.load(7)
    s: Session = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert s.state is State.HANDOVER and s.view().outcome is not None
    return s
