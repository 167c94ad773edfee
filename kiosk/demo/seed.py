"""The demo's simulated citizen: how quickly they act, and what waits for them in the locker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.records.locker_store import LockerItem
from kiosk.records.submission import citizen_hash
from kiosk.terminal import Terminal

# Simulator settings by device kind (see each simulator's config model).
HUMAN_PACE: Mapping[str, Mapping[str, Any]] = {
    "id_reader": {"present_after_s": 1.5},
    "camera": {"face_after_s": 1.2},
    "locker": {"close_after_s": 4.0},
}
INSTANT_PACE: Mapping[str, Mapping[str, Any]] = {
    "id_reader": {"present_after_s": 0.0},
    "camera": {"face_after_s": 0.0},
    "locker": {"close_after_s": 0.0},
    "printer": {"paper_receipts": 10**9},
    "certificate_printer": {"sheets": 10**9},
}


def seed_demo_locker(terminal: Terminal) -> None:
    """The demo's locker holds one certificate for each demo citizen."""
    if terminal.devices.locker is None or terminal.inventory.items():
        return
    for door, person in enumerate(DEMO_CITIZENS, start=1):
        terminal.inventory.load(
            LockerItem(door, citizen_hash(person.id_number), "营业执照", "Business licence"))
