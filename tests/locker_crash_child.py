"""The terminal's side of a kill -9 trial (tests/test_locker_crash.py): the production session
collecting by pickup code, or staff loading through LockerDesk, against the real RS-485
adapter on the peer's pty, with the real locker store and outbox in DIR. It prints a line at
each step; the trial kills it at a random moment.

    python -m tests.locker_crash_child DIR PORT pickup CODE
    python -m tests.locker_crash_child DIR PORT load APPLICATION_NO
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from devices.camera.fake import FakeCamera
from devices.config import BuildContext
from devices.fitted import DeviceSet
from devices.id_reader.fake import FakeIdReader
from devices.locker.rs485.board import Rs485Locker
from devices.locker.rs485.config import Rs485_8a80Config
from kiosk.config.catalogue import Intent, load_catalogue
from kiosk.config.settings import SystemClock, Timings
from kiosk.health.monitor import HealthMonitor
from kiosk.locker.layout import layout_of
from kiosk.locker.loading import LockerDesk
from kiosk.records.audit import AuditLog
from kiosk.records.citizen_key import CitizenKey
from kiosk.records.locker_store import LockerInventory
from kiosk.session import Session, SessionDeps, State
from kiosk.terminal import open_outbox

ID_NUMBER = "310115198001010024"


def main() -> None:
    data, port, mode, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    config = Rs485_8a80Config(port=port, doors=24, open_confirm_s=1.0)
    locker = Rs485Locker.from_config(config, BuildContext(data))
    devices = DeviceSet.around({"locker": locker, "id_reader": FakeIdReader(),
                                "camera": FakeCamera()}, poll_interval_s=None)
    store = LockerInventory(data / "locker.db", CitizenKey.from_file(data / "citizen-hash.key"))
    outbox = open_outbox(data)
    clock = SystemClock()
    audit = AuditLog(data / "audit.jsonl", clock)
    print("ready", flush=True)
    if mode == "load":
        assert devices.locker is not None
        desk = LockerDesk(devices.locker, store, outbox, audit, clock, "T-1", layout_of(config),
                          call_timeout_s=3.0, close_wait_s=20.0, poll_s=0.02)
        job = desk.load(arg, "证", "Cert", ID_NUMBER)
        print("done", job.outcome, flush=True)
        return
    health = HealthMonitor(devices)
    health.refresh()
    session = Session(SessionDeps(
        terminal_id="T-1", services=load_catalogue().service, devices=devices, sink=outbox,
        statuses=health.by_kind, inventory=store, audit=audit, clock=clock,
        timings=Timings(door_reminder_s=60, door_close_wait_s=60)))
    session.touch()
    session.choose_intent(Intent.COLLECT)
    session.pickup_code(arg)
    print("opened" if session.state is State.HANDOVER else f"refused {session.notice}",
          flush=True)
    while session.state is State.HANDOVER:
        time.sleep(0.02)
        session.tick()
    print("done", session.notice.key if session.notice else "collected", flush=True)


if __name__ == "__main__":
    main()
