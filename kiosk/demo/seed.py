"""What waits for the demo's simulated citizen in the locker. (How quickly they act is each
simulator's own setting: see the simulators' config models and their INSTANT settings.)"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import requests

from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.demo.enrolment import Reachable
from kiosk.terminal import Terminal

log = logging.getLogger(__name__)
KEEP_S = 30 * 86400  # the demo's items are overdue after a month
# The districts of Shanghai the demo citizens' ID numbers were issued in.
DISTRICTS = {"310115": "浦东新区", "310104": "徐汇区", "310106": "静安区"}


def seed_demo_locker(terminal: Terminal) -> None:
    """The demo's locker holds one certificate for each demo citizen."""
    if terminal.devices.locker is None or terminal.inventory.items():
        return
    for door, person in enumerate(DEMO_CITIZENS, start=1):
        terminal.inventory.load(door, f"DEMO-{door:04d}", "营业执照", "Business licence",
                                person.id_number, now=time.time(), keep_s=KEEP_S)


def register_demo_residents(access: Reachable,
                            numbers: Iterable[str] | None = None) -> int:
    """The demo citizens (or `numbers`) on the reference back office's household register, so
    that their household and entry-exit proofs are issued (a passport holder is not: "not
    eligible"); how many it took."""
    registered = 0
    for number in numbers if numbers is not None else [c.id_number for c in DEMO_CITIZENS]:
        try:
            answer = requests.post(access.url + "/v1/residents", timeout=30,
                                   headers=access.headers, json={
                "id_number": number, "district": DISTRICTS.get(number[:6], "浦东新区")})
        except requests.RequestException as e:
            log.warning("the back office took no resident: %s", type(e).__name__)
            break
        registered += answer.status_code == 200
    return registered
