"""The locker for real: staff loading and retrieval, a citizen's pickup by ID card and by
pickup code (with the back office down), and the staff and technician commands, through the
production RS-485 adapter and its wire peer on a pty."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backoffice import start_in_thread
from devices.config import BuildContext
from devices.fitted import DeviceSet
from devices.id_reader.protocol import Identity
from devices.locker.rs485.board import Rs485Locker
from devices.locker.rs485.config import Rs485_8a80Config
from devices.locker.rs485.peer import LockerBoardPeer
from kiosk.config.catalogue import Intent
from kiosk.config.settings import SystemClock
from kiosk.locker.layout import layout_of
from kiosk.locker.loading import LockerDesk
from kiosk.locker.watch import LockerWatch
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.records.audit import AuditLog
from kiosk.records.citizen_key import CitizenKey
from kiosk.records.locker_store import LockerInventory
from kiosk.records.staff_pins import StaffPins
from kiosk.session import State
from tests.enrol import enrol
from tests.flows import identify, load_item
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent
PIN = "246810"
LI = "310104195503150040"


@pytest.fixture
def peer() -> Iterator[LockerBoardPeer]:
    running = LockerBoardPeer("8a80", {1: 24}, reaction_s=0.02)
    yield running
    running.stop()


def adapter(peer: LockerBoardPeer) -> Rs485Locker:
    config = Rs485_8a80Config(port=peer.port, doors=24, open_confirm_s=0.5)
    return Rs485Locker.from_config(config, BuildContext(Path("/nonexistent")))


@pytest.fixture
def desk(peer: LockerBoardPeer, rig: Any) -> Iterator[LockerDesk]:
    devices = DeviceSet.around({"locker": adapter(peer)}, poll_interval_s=None)
    config = Rs485_8a80Config(port=peer.port, doors=24)
    yield LockerDesk(devices.locker, rig.inventory, rig.sink, rig.audit, SystemClock(), "T-1",
                     layout_of(config), call_timeout_s=3.0, close_wait_s=5.0, poll_s=0.05)
    devices.stop()


def seen_open(store: LockerInventory) -> int | None:
    """The door the terminal has seen open (its intent answered), if any."""
    return next((i.door for i in store.unresolved() if i.opened), None)


def staff_put_in_and_shut(peer: LockerBoardPeer, store: LockerInventory, *,
                          put: bool = True) -> threading.Thread:
    """Staff at the locker: once the terminal has seen the door open, the item goes in and
    the door is shut."""
    def act() -> None:
        wait_until(lambda: seen_open(store) is not None, 10, "a door seen open")
        door = seen_open(store)
        assert door is not None
        if put:
            peer.put_item(door)
        peer.close(door)

    helper = threading.Thread(target=act, daemon=True)
    helper.start()
    return helper


def events(rig: Any, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p) for k, p, _ in rig.sink.envelopes if k == kind]


def test_staff_load_an_item_the_sensors_confirm_and_the_back_office_is_told(
        desk: LockerDesk, peer: LockerBoardPeer, rig: Any, citizen: Identity) -> None:
    staff = staff_put_in_and_shut(peer, rig.inventory)
    job = desk.load("APP-42", "营业执照", "Licence", citizen.id_number, size="medium")
    staff.join(5)
    assert job.ok and job.outcome == "loaded" and job.door == 1 and job.label == "01"
    assert [i.door for i in rig.inventory.for_identity(citizen.id_number)] == [1]
    (told,) = events(rig, "locker.loaded")
    assert (told["door"], told["application_no"]) == (1, "APP-42")
    assert citizen.id_number not in json.dumps(told) and rig.inventory.unresolved() == []
    staff = staff_put_in_and_shut(peer, rig.inventory)  # the next free compartment
    assert desk.load("APP-43", "证", "Cert", citizen.id_number).door == 2
    staff.join(5)


def test_a_door_shut_on_an_empty_compartment_loads_nothing(
        desk: LockerDesk, peer: LockerBoardPeer, rig: Any, citizen: Identity) -> None:
    staff = staff_put_in_and_shut(peer, rig.inventory, put=False)
    job = desk.load("APP-42", "证", "Cert", citizen.id_number)
    staff.join(5)
    assert (job.ok, job.outcome) == (False, "nothing_put_in")
    assert rig.inventory.occupied() == set() and events(rig, "locker.loaded") == []


def test_a_jammed_lock_on_loading_leaves_the_compartment_free_and_tells_staff(
        desk: LockerDesk, peer: LockerBoardPeer, rig: Any, citizen: Identity) -> None:
    peer.jam(1, 1)
    job = desk.load("APP-42", "证", "Cert", citizen.id_number)
    assert (job.ok, job.outcome, job.door) == (False, "jammed", 1)
    assert peer.unlocks[(1, 1)] == 1 and rig.inventory.occupied() == set()
    assert [e["door"] for e in events(rig, "locker.door_jammed")] == [1]


def test_staff_retrieve_an_overdue_item(desk: LockerDesk, peer: LockerBoardPeer, rig: Any,
                                        citizen: Identity) -> None:
    load_item(rig, 5, citizen)
    peer.put_item(5)

    def take() -> None:
        wait_until(lambda: seen_open(rig.inventory) == 5, 5)
        peer.take_item(5)
        peer.close(5)

    threading.Thread(target=take, daemon=True).start()
    job = desk.retrieve(5)
    assert job.ok and job.outcome == "retrieved" and rig.inventory.items() == []


def test_a_citizen_collects_through_the_real_board(rig: Any, peer: LockerBoardPeer,
                                                   citizen: Identity) -> None:
    rig.refit("locker", adapter(peer))
    load_item(rig, 7, citizen)
    peer.put_item(7)
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert s.state is State.HANDOVER and peer.is_open(7) and peer.unlocks[(1, 7)] == 1
    rig.tick()
    assert s.state is State.HANDOVER  # open: the citizen is taking it
    peer.take_item(7)
    peer.close(7)
    rig.tick()
    assert s.state is State.DONE and rig.inventory.items() == []
    assert [e["door"] for e in events(rig, "locker.collected")] == [7]


def test_pickup_by_code_and_by_id_card_works_with_the_back_office_down(
        rig: Any, peer: LockerBoardPeer, citizen: Identity, tmp_path: Path) -> None:
    rig.refit("locker", adapter(peer))
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    try:
        for door in (3, 4):
            load_item(rig, door, citizen)
            peer.put_item(door)
            bo.server.lockers.loaded("TEST-0001", f"APP-{door:04d}", door)  # its SMS went out
        watch = LockerWatch(rig.inventory, rig.session.d.devices.locker, sink=rig.sink,
                            audit=rig.audit, terminal_id="TEST-0001", clock=rig.clock,
                            call_timeout_s=3, interval_s=60, pickup_codes=lambda:
                            BackOfficeClient(bo.url, token=bo.token).pickup_codes("TEST-0001"))
        assert watch.take_pickup_codes() == 2
        code = bo.server.lockers.notice("APP-0003")["pickup_code"]  # type: ignore[index]
    finally:
        bo.stop()  # the back office goes down; the terminal keeps only hashes of the codes
    rig.session.d.online = lambda: False
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    s.pickup_code(code)
    assert s.state is State.HANDOVER and peer.is_open(3)
    peer.take_item(3)
    peer.close(3)
    rig.tick()
    assert s.state is State.DONE
    s.finish()
    rig.tick(10)
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)  # the other item, by ID card, offline too
    assert s.state is State.HANDOVER and peer.is_open(4)


# ---------------------------------------------------------------- the commands
def kiosk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def hall(peer: LockerBoardPeer, tmp_path: Path) -> tuple[Path, Path]:
    """The gov-hall profile with its locker on the peer, and a data dir with records."""
    shipped = (ROOT / "kiosk/config/profiles/gov-hall.toml").read_text(encoding="utf-8")
    profile = tmp_path / "hall.toml"
    profile.write_text(shipped.replace('port = "/dev/ttyUSB0"\ndoors = 24',
                                       f'port = "{peer.port}"\ndoors = 24\nopen_confirm_s = 0.5'),
                       encoding="utf-8")
    data = tmp_path / "data"
    enrol(data)
    LockerInventory(data / "locker.db").close()
    AuditLog(data / "audit.jsonl", SystemClock()).close()
    StaffPins(data / "staff-pins.db").set_pin("S-007", "locker_clerk", PIN)
    return profile, data


def key(data: Path) -> CitizenKey:
    return CitizenKey.from_file(data / "citizen-hash.key")


def staff_kiosk(*args: str, pin: str = "") -> subprocess.CompletedProcess[str]:
    """A locker command by staff S-007, typing their PIN."""
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args, "--staff", "S-007",
                           "--pin-stdin"], input=(pin or PIN) + "\n", capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_staff_load_list_and_retrieve_from_the_console(hall: tuple[Path, Path],
                                                       peer: LockerBoardPeer) -> None:
    profile, data = hall
    store = LockerInventory(data / "locker.db", key(data))
    staff = staff_put_in_and_shut(peer, store)
    done = staff_kiosk("locker", "load", "APP-9", "--id-number", "310115198001010024",
                       "--config", str(profile), "--data-dir", str(data), "--close-wait-s",
                       "10", "--json")
    staff.join(5)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "compartment": 1, "label": "01",
                                       "outcome": "loaded"}
    (row,) = json.loads(kiosk("locker", "list", "--config", str(profile), "--data-dir",
                              str(data), "--json").stdout)
    assert (row["label"], row["application_no"], row["overdue"]) == ("01", "APP-9", False)
    assert "310115198001010024" not in (data / "locker.db").read_bytes().decode("latin-1")

    def take() -> None:
        wait_until(lambda: seen_open(store) == 1, 10)
        peer.take_item(1)
        peer.close(1)

    threading.Thread(target=take, daemon=True).start()
    done = staff_kiosk("locker", "retrieve", "1", "--config", str(profile), "--data-dir",
                       str(data), "--close-wait-s", "10")
    assert done.returncode == 0 and "retrieved: compartment 01" in done.stdout, done.stderr
    assert kiosk("locker", "list", "--data-dir", str(data)).stdout.strip() == \
        "the locker is empty"


def test_a_wrong_pin_opens_nothing_and_five_of_them_lock_the_staff_member_out(
        hall: tuple[Path, Path], peer: LockerBoardPeer) -> None:
    profile, data = hall
    args = ("locker", "retrieve", "1", "--config", str(profile), "--data-dir", str(data))
    for left in (4, 3, 2, 1):
        done = staff_kiosk(*args, pin="000000")
        assert done.returncode == 1 and f"wrong PIN ({left} tries" in done.stderr
    done = staff_kiosk(*args, pin="000000")
    assert "too many wrong PINs" in done.stderr
    done = staff_kiosk(*args)  # the right PIN waits out the lockout
    assert done.returncode == 1 and "too many wrong PINs" in done.stderr
    assert sum(peer.unlocks.values()) == 0
    audit = (data / "audit.jsonl").read_text(encoding="utf-8")
    assert audit.count('"staff_sign_in_failed"') == 6 and PIN not in audit


def test_open_door_waits_for_the_sensor_and_says_why_not(hall: tuple[Path, Path],
                                                         peer: LockerBoardPeer) -> None:
    profile, data = hall
    done = kiosk("device", "open-door", "2", "--config", str(profile), "--data-dir", str(data))
    assert done.returncode == 0 and peer.is_open(2), done.stderr
    assert LockerInventory(data / "locker.db").unresolved()[0].purpose == "test"
    peer.jam(1, 3)
    done = kiosk("device", "open-door", "3", "--config", str(profile))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "open door: compartment 3: jammed: the lock was driven but the door sensor never "
        "showed it open"]
    peer.silent(1)
    done = kiosk("device", "open-door", "4", "--config", str(profile), "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["outcome"] == "fault"


def test_device_status_locker_gives_each_compartment_door_and_item(
        hall: tuple[Path, Path], peer: LockerBoardPeer) -> None:
    profile, _ = hall
    peer.put_item(5)
    kiosk("device", "open-door", "6", "--config", str(profile))
    done = kiosk("device", "status", "locker", "--config", str(profile), "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    doors = {c["number"]: (c["door"], c["item"]) for c in row["compartments"]}
    assert len(doors) == 24 and doors[5] == ("closed", "present")
    assert doors[6] == ("open", "empty") and doors[1] == ("closed", "empty")
    peer.silent(1)
    done = kiosk("device", "status", "locker", "--config", str(profile), "--json")
    (row,) = json.loads(done.stdout)
    assert done.returncode == 1 and row["state"] == "offline"
    assert {c["door"] for c in row["compartments"]} == {"unknown"}


def test_staff_load_by_application_number_alone_the_back_office_says_whose(
        hall: tuple[Path, Path], peer: LockerBoardPeer, tmp_path: Path) -> None:
    import base64

    import requests

    profile, data = hall
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    try:
        text = profile.read_text(encoding="utf-8")
        text = text.replace('url = "https://backoffice.example.gov.cn/kiosk"', f'url = "{bo.url}"')
        enrolled = enrol(data, bo)
        profile.write_text(text.replace("/etc/kiosk/terminal-token", str(enrolled["token_file"])),
                           encoding="utf-8")
        application = {"tracking_no": "APP-77", "service_id": "employment_certificate",
                       "terminal_id": "SH-PD-0001", "citizen": {"id_number": LI, "name": "李秀英"},
                       "form": {}, "submitted_at": 1.0}
        requests.post(bo.url + "/v1/envelopes", timeout=10, json={"envelopes": [{
            "idempotency_key": "k-77", "kind": "application.submit",
            "payload_b64": base64.b64encode(json.dumps(application).encode()).decode()}]},
                headers=bo.headers)
        store = LockerInventory(data / "locker.db", key(data))
        staff = staff_put_in_and_shut(peer, store)
        done = staff_kiosk("locker", "load", "APP-77", "--config", str(profile), "--data-dir",
                           str(data), "--close-wait-s", "10")
        staff.join(5)
        assert done.returncode == 0, done.stderr
        assert [i.application_no for i in store.for_identity(LI)] == ["APP-77"]
        unknown = staff_kiosk("locker", "load", "APP-00", "--config", str(profile),
                              "--data-dir", str(data))
        assert unknown.returncode == 2 and "does not say whose APP-00 is" in unknown.stderr
    finally:
        bo.stop()


def test_a_jammed_lock_and_a_door_left_open_are_alerts_on_the_staff_console(
        peer: LockerBoardPeer, rig: Any, citizen: Identity) -> None:
    """Through the RS-485 adapter and its boards' peer: the lock that jams, and the door
    staff open and do not shut, each appear on the console until a later opening settles it."""
    from kiosk.staff import StaffDesk
    from kiosk.staff.console import StaffConsole

    devices = DeviceSet.around({"locker": adapter(peer)}, poll_interval_s=None)
    config = Rs485_8a80Config(port=peer.port, doors=24)
    try:
        desk = LockerDesk(devices.locker, rig.inventory, rig.sink, rig.audit, SystemClock(),
                          "T-1", layout_of(config), call_timeout_s=3.0, close_wait_s=0.3,
                          poll_s=0.05)

        class Quiet:  # an outbox with nothing in it
            def stats(self) -> Any:
                from offline_queue.outbox import OutboxStats

                return OutboxStats(pending=0, in_flight=0, parked=0, delivered=0,
                                   oldest_pending_age_s=None)

        console = StaffConsole(StaffDesk((), None, rig.audit, rig.clock, "T-1"), devices,
                               Quiet(), None, rig.inventory, SystemClock(),
                               door_left_open_s=0.0)
        assert devices.locker is not None
        devices.locker.refresh()  # the boards answer: no device alert
        peer.jam(1, 1)
        assert desk.load("APP-42", "证", "Cert", citizen.id_number).outcome == "jammed"
        assert {(a.kind, a.subject) for a in console.alerts()} == {("door_jammed", "1")}
        left = desk.load("APP-43", "证", "Cert", citizen.id_number)  # opened, never shut
        assert left.outcome == "left_open" and left.door is not None
        assert ("door_left_open", str(left.door)) in \
            {(a.kind, a.subject) for a in console.alerts()}
    finally:
        devices.stop()


def test_staff_load_and_retrieve_from_the_console_only_with_a_role_that_may(
        desk: LockerDesk, peer: LockerBoardPeer, rig: Any, citizen: Identity,
        tmp_path: Path) -> None:
    """The console's loading and retrieval go through the same desk as the command line,
    against the boards' peer; whose an application is comes from the back office; a role
    that may not load is refused before any door opens."""
    from kiosk.config.profile import load_profile
    from kiosk.records.staff_pins import StaffPins
    from kiosk.staff import StaffDesk
    from kiosk.staff.console import StaffConsole

    pins = StaffPins(tmp_path / "staff-pins.db")
    pins.set_pin("L-02", "locker_clerk", "482915")
    pins.set_pin("T-07", "technician", "482915")
    staff = StaffDesk(load_profile("gov-hall").staff, pins, rig.audit, rig.clock, "T-1")
    whose = {"APP-50": citizen.id_number}
    console = StaffConsole(staff, rig.session.d.devices, None, None, rig.inventory,
                           SystemClock(), lockers=desk, assignee=whose.get)
    staff.sign_in_pin("T-07", "482915")
    assert console.load("APP-50") is None and peer.unlocks == {}  # a technician may not
    staff.sign_in_pin("L-02", "482915")
    assert console.load("APP-99").outcome == "unknown_application"  # type: ignore[union-attr]
    helper = staff_put_in_and_shut(peer, rig.inventory)
    job = console.load("APP-50")
    helper.join(5)
    assert job is not None and job.ok and job.outcome == "loaded"
    assert job.door is not None and desk.busy is None
    door = job.door

    def take() -> None:
        wait_until(lambda: seen_open(rig.inventory) == door, 5)
        peer.take_item(door)
        peer.close(door)

    threading.Thread(target=take, daemon=True).start()
    out = console.retrieve(door)
    assert out is not None and out.ok and rig.inventory.items() == []
