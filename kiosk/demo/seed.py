"""What waits for the demo's simulated citizen in the locker. (How quickly they act is each
simulator's own setting: see the simulators' config models and their INSTANT settings.)"""

from __future__ import annotations

from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.records.locker_store import LockerItem
from kiosk.records.submission import citizen_hash
from kiosk.terminal import Terminal


def seed_demo_locker(terminal: Terminal) -> None:
    """The demo's locker holds one certificate for each demo citizen."""
    if terminal.devices.locker is None or terminal.inventory.items():
        return
    for door, person in enumerate(DEMO_CITIZENS, start=1):
        terminal.inventory.load(
            LockerItem(door, citizen_hash(person.id_number), "营业执照", "Business licence"))
