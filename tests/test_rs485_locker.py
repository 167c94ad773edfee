"""The RS-485 locker (`rs485_8a80`, `rs485_kerong`), the production adapter built through the
registry, against its wire peer on a real pty: doors confirmed by their sensors, and every
trouble a board, a lock or a sensor can cause."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from devices import registry
from devices.config import BuildContext
from devices.locker.protocol import DoorOutcome
from devices.locker.rs485.board import Rs485Locker
from devices.locker.rs485.config import Compartment, Rs485_8a80Config, Rs485KerongConfig
from devices.locker.rs485.frames import AskStatus, Query, Sensors, Unlock
from devices.locker.rs485.peer import FIRST_BOARD, BoardProtocol, LockerBoardPeer
from devices.status import DeviceState, LinkReason
from kiosk.config.profile import load_profile
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent
CONFIGS: dict[str, type[Rs485_8a80Config] | type[Rs485KerongConfig]] = {
    "8a80": Rs485_8a80Config, "kerong": Rs485KerongConfig}
# Requests one reading of a board takes: 8A/80 asks doors and items apart.
READING_REQUESTS = {"8a80": 2, "kerong": 1}

MakePeer = Callable[..., LockerBoardPeer]
Build = Callable[..., Rs485Locker]


@pytest.fixture(params=["8a80", "kerong"])
def protocol(request: pytest.FixtureRequest) -> BoardProtocol:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def first(protocol: str) -> int:
    """The first board's address out of the box: 1 on 8A/80, 0 on Kerong."""
    return FIRST_BOARD[protocol]


@pytest.fixture
def make_peer(protocol: BoardProtocol) -> Iterator[MakePeer]:
    made: list[LockerBoardPeer] = []

    def make(boards: dict[int, int] | None = None, **settings: Any) -> LockerBoardPeer:
        made.append(LockerBoardPeer(protocol, boards, **settings))
        return made[-1]

    yield make
    for peer in made:
        peer.stop()


@pytest.fixture
def peer(make_peer: MakePeer) -> LockerBoardPeer:
    return make_peer()


@pytest.fixture
def build(protocol: str, tmp_path: Path) -> Build:
    """The adapter as a profile gets it: its config, built by the registry's entry."""
    def make(port: str, **settings: Any) -> Rs485Locker:
        config = CONFIGS[protocol](port=port, **settings)
        build = registry.adapter_of("locker", config).build
        assert build is not None
        locker = build(config, BuildContext(tmp_path))
        assert isinstance(locker, Rs485Locker)
        return locker

    return make


@pytest.fixture
def locker(build: Build, peer: LockerBoardPeer) -> Rs485Locker:
    return build(peer.port)


def compartments(*places: tuple[int, int]) -> list[dict[str, Any]]:
    """Compartments 1..N on these (board, lock) places, labelled after them."""
    return [{"number": n, "board": b, "lock": lock, "label": f"{b}-{lock:02d}",
             "column": (n - 1) // 8 + 1, "row": (n - 1) % 8 + 1}
            for n, (b, lock) in enumerate(places, start=1)]


# ---------------------------------------------------------------- doors
def test_a_door_opens_and_is_confirmed_by_its_sensor(
    peer: LockerBoardPeer, locker: Rs485Locker, first: int,
) -> None:
    assert locker.status().state is DeviceState.READY
    assert locker.open_door(3) is DoorOutcome.OPENED
    assert peer.is_open(3) and peer.unlocks == {(first, 3): 1}
    state = locker.door_state(3)
    assert state is not None and state.is_open and state.door == 3
    peer.close(3)
    state = locker.door_state(3)
    assert state is not None and not state.is_open


def test_a_jammed_lock_is_reported_jammed_and_the_unlock_is_sent_once(
    peer: LockerBoardPeer, build: Build, first: int,
) -> None:
    locker = build(peer.port, open_confirm_s=0.4)
    peer.jam(first, 5)
    assert locker.open_door(5) is DoorOutcome.JAMMED
    assert peer.unlocks == {(first, 5): 1}  # reported, not driven again
    assert not peer.is_open(5)


def test_an_unknown_compartment_is_no_such_door(peer: LockerBoardPeer,
                                                locker: Rs485Locker) -> None:
    assert locker.open_door(25) is DoorOutcome.NO_SUCH_DOOR
    assert locker.open_door(0) is DoorOutcome.NO_SUCH_DOOR
    assert locker.door_state(25) is None
    assert peer.requests == []


def test_a_silent_board_is_offline_not_answering_naming_the_board(
    peer: LockerBoardPeer, locker: Rs485Locker, first: int,
) -> None:
    peer.silent(first)
    status = locker.status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_ANSWERING)
    assert f"locker board {first} on {peer.port}" in status.message
    assert locker.open_door(1) is DoorOutcome.FAULT
    assert locker.door_state(1) is None
    assert set(locker.door_states().values()) == {None}
    assert not peer.is_open(1)
    peer.silent(first, False)
    assert locker.status().state is DeviceState.READY


def test_a_wrong_checksum_is_a_fault_not_a_crash_and_the_next_good_reply_works(
    peer: LockerBoardPeer, build: Build, first: int,
) -> None:
    locker = build(peer.port, open_confirm_s=0.3)
    peer.corrupt(first)
    status = locker.status()
    assert (status.state, status.reason) == (DeviceState.FAULT, "bad_reply")
    assert f"locker board {first}" in status.message and "checksum" in status.message
    assert locker.door_state(2) is None
    # The board heard the unlock (only its answers are garbled), but no sensor could be
    # read: not known to be open, so a fault, and sent once.
    assert locker.open_door(2) is DoorOutcome.FAULT
    assert peer.unlocks == {(first, 2): 1}
    peer.corrupt(first, False)
    assert locker.status().state is DeviceState.READY
    wait_until(lambda: (s := locker.door_state(2)) is not None and s.is_open, 5,
               "the door read open once the board answers well")


def test_a_garbled_acknowledgement_leaves_it_to_the_door_sensor(
    peer: LockerBoardPeer, locker: Rs485Locker, first: int,
) -> None:
    peer.corrupt_next(first, 1)  # a glitch on the line, on the unlock's answer
    assert locker.open_door(4) is DoorOutcome.OPENED
    assert peer.unlocks == {(first, 4): 1}


def test_a_door_sensor_stuck_closed_is_reported_jammed(
    peer: LockerBoardPeer, build: Build, first: int,
) -> None:
    locker = build(peer.port, open_confirm_s=0.4)
    peer.stuck(first, 2, door=False)
    assert locker.open_door(2) is DoorOutcome.JAMMED
    wait_until(lambda: peer.is_open(2), 5, "the door open: only its sensor cannot tell")
    assert peer.unlocks == {(first, 2): 1}


def test_a_door_sensor_stuck_open_never_reads_closed(
    peer: LockerBoardPeer, locker: Rs485Locker, first: int,
) -> None:
    peer.stuck(first, 2, door=True)
    assert locker.open_door(2) is DoorOutcome.OPENED
    wait_until(lambda: peer.is_open(2), 5, "the door springing open")
    peer.close(2)
    assert not peer.is_open(2)
    state = locker.door_state(2)
    assert state is not None and state.is_open


def test_a_late_reply_is_never_taken_for_the_next_request(
    peer: LockerBoardPeer, locker: Rs485Locker, first: int,
) -> None:
    peer.late(first, 0.6)  # after the adapter's 0.3 s
    assert locker.door_state(1) is None
    wait_until(lambda: peer.replies == 1, 5, "the late reply")
    peer.late(first, 0)
    peer.put_item(1)  # the late reply said empty; the board sees an item now
    state = locker.door_state(1)
    assert state is not None and state.item_present


def test_a_port_that_cannot_be_opened_is_offline_not_connected(build: Build) -> None:
    locker = build("/dev/ttyRS485-not-fitted")
    status = locker.status()
    assert (status.state, status.reason) == (DeviceState.OFFLINE, LinkReason.NOT_CONNECTED)
    assert "/dev/ttyRS485-not-fitted" in status.message
    assert locker.open_door(1) is DoorOutcome.FAULT
    assert locker.door_state(1) is None
    assert set(locker.door_states().values()) == {None}


# ---------------------------------------------------------------- items and polarity
@pytest.mark.parametrize("inverted", [False, True], ids=["normal", "inverted"])
def test_item_present_and_empty_with_normal_and_inverted_polarity(
    make_peer: MakePeer, build: Build, inverted: bool,
) -> None:
    peer = make_peer(invert_doors=inverted, invert_items=inverted)
    locker = build(peer.port, invert_doors=inverted, invert_items=inverted)
    peer.put_item(4)
    state = locker.door_state(4)
    assert state is not None and state.item_known
    assert (state.is_open, state.item_present) == (False, True)
    assert locker.open_door(4) is DoorOutcome.OPENED
    peer.take_item(4)
    state = locker.door_state(4)
    assert state is not None and (state.is_open, state.item_present) == (True, False)


def test_polarity_set_against_the_wiring_reads_every_door_open(
    make_peer: MakePeer, build: Build,
) -> None:
    peer = make_peer(invert_doors=True)
    state = build(peer.port).door_state(1)
    assert state is not None and state.is_open


def test_an_8a80_board_without_item_sensors_reports_items_unknown(tmp_path: Path) -> None:
    peer = LockerBoardPeer("8a80", item_sensors=False)
    try:
        locker = Rs485Locker.from_config(Rs485_8a80Config(port=peer.port),
                                         BuildContext(tmp_path))
        assert locker.status().state is DeviceState.READY
        peer.put_item(1)
        state = locker.door_state(1)
        assert state is not None and not state.item_known and not state.item_present
        asked = len(peer.requests)
        locker.door_state(1)  # learnt: the item query is not asked again
        assert peer.requests[asked:] == [Query(1, Sensors.DOORS)]
        assert "items not sensed" in locker.self_test().message
    finally:
        peer.stop()


# ---------------------------------------------------------------- several boards
def test_two_boards_on_one_bus_with_a_layout_of_compartments(
    make_peer: MakePeer, build: Build, first: int,
) -> None:
    left, right = first, first + 3
    peer = make_peer({left: 8, right: 8})
    locker = build(peer.port, compartments=compartments((right, 8), (left, 1), (left, 2)))
    assert locker.door_count == 3
    assert [c.label for c in locker.compartments] == [f"{right}-08", f"{left}-01",
                                                      f"{left}-02"]
    assert locker.status().state is DeviceState.READY
    assert {r.board for r in peer.requests} == {left, right}  # the layout's boards only
    assert locker.open_door(1) is DoorOutcome.OPENED
    assert peer.unlocks == {(right, 8): 1}
    states = locker.door_states()
    assert [(n, s.is_open if s else None) for n, s in states.items()] == [
        (1, True), (2, False), (3, False)]
    peer.silent(right)
    status = locker.status()
    assert status.state is DeviceState.OFFLINE and f"locker board {right} " in status.message
    assert "(1 compartment cannot be opened)" in status.message
    assert locker.door_state(1) is None and locker.door_state(2) is not None


def test_door_states_of_48_compartments_over_two_boards(
    make_peer: MakePeer, build: Build, protocol: str, first: int,
) -> None:
    peer = make_peer({first: 24, first + 1: 24})
    places = [(first, lock) for lock in range(1, 25)] + [(first + 1, lock)
                                                          for lock in range(1, 25)]
    locker = build(peer.port, compartments=compartments(*places))
    for n in (5, 30, 48):
        peer.put_item(n)
    assert locker.open_door(30) is DoorOutcome.OPENED
    asked = len(peer.requests)
    states = locker.door_states()
    assert len(peer.requests) - asked == 2 * READING_REQUESTS[protocol]  # one reading a board
    assert list(states) == list(range(1, 49))
    assert all(s is not None for s in states.values())
    assert {n for n, s in states.items() if s and s.item_present} == {5, 30, 48}
    assert {n for n, s in states.items() if s and s.is_open} == {30}
    peer.silent(first + 1)
    states = locker.door_states()
    assert [n for n, s in states.items() if s is None] == list(range(25, 49))
    peer.silent(first + 1, False)
    assert locker.self_test().message == (
        f"48 compartments on locker boards {first}, {first + 1}: 1 open, 3 loaded")


# ---------------------------------------------------------------- the peer as a process
def test_the_peer_runs_as_a_process_of_its_own_and_takes_faults_on_stdin(
    build: Build, protocol: str, first: int,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.locker.rs485.peer", protocol, f"{first}:12"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        locker = build(proc.stdout.readline().strip(), doors=12)
        assert locker.status().state is DeviceState.READY
        proc.stdin.write(f"silent {first} on\nput 3\n")
        proc.stdin.flush()
        wait_until(lambda: locker.status().state is DeviceState.OFFLINE, 10, "silence")
        proc.stdin.write(f"silent {first} off\n")
        proc.stdin.flush()
        wait_until(lambda: (s := locker.door_state(3)) is not None and s.item_present, 10,
                   "the item put in")
    finally:
        proc.stdin.close()
        assert proc.wait(10) == 0


# ---------------------------------------------------------------- the layout as data
def test_without_compartments_doors_are_the_first_boards_locks_in_columns_of_8(
    protocol: str, first: int,
) -> None:
    layout = CONFIGS[protocol](port="loop://", doors=20).layout()
    assert [(c.number, c.board, c.lock) for c in layout] == [(n, first, n) for n in range(1, 21)]
    assert [c.label for c in layout[:2]] == ["01", "02"] and layout[-1].label == "20"
    assert [(c.column, c.row) for c in layout if c.number in (1, 8, 9, 20)] == [
        (1, 1), (1, 8), (2, 1), (3, 4)]
    assert {c.size for c in layout} == {"medium"}


def test_doors_are_the_count_of_the_compartments_listed(protocol: str) -> None:
    config = CONFIGS[protocol](port="loop://", compartments=compartments((2, 1), (1, 1)))
    assert config.doors == 2 and [c.number for c in config.layout()] == [1, 2]
    assert isinstance(config.layout()[0], Compartment)


@pytest.mark.parametrize(("settings", "problem"), [
    ({"compartments": [*compartments((1, 1)), *compartments((1, 2))]},
     "compartment number 1 is listed twice"),
    ({"compartments": compartments((1, 1), (1, 1))}, "board 1 lock 1 is listed twice"),
    ({"doors": 3, "compartments": compartments((1, 1))}, "doors = 3, but compartments lists 1"),
    ({"doors": 25}, "more than one board's 24 locks"),
    ({"compartments": compartments((1, 25))}, "less than or equal to 24"),
])
def test_a_layout_that_cannot_be_is_refused(protocol: str, settings: dict[str, Any],
                                            problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        CONFIGS[protocol](port="loop://", **settings)


def test_a_profile_lists_compartments_under_devices_locker(tmp_path: Path) -> None:
    shipped = (ROOT / "kiosk/config/profiles/gov-hall.toml").read_text(encoding="utf-8")
    tables = "".join(
        f'\n[[devices.locker.compartments]]\nnumber = {n}\nboard = {b}\nlock = {lock}\n'
        f'size = "{size}"\nlabel = "A-{n:02d}"\ncolumn = 1\nrow = {n}\n'
        for n, b, lock, size in ((1, 1, 1, "large"), (2, 2, 1, "small")))
    profile = tmp_path / "two-boards.toml"
    profile.write_text(shipped.replace("doors = 24\n", tables), encoding="utf-8")
    locker, = load_profile(profile).devices.configs("locker")
    assert isinstance(locker, Rs485_8a80Config) and locker.doors == 2
    assert [(c.board, c.lock, c.size, c.label) for c in locker.layout()] == [
        (1, 1, "large", "A-01"), (2, 1, "small", "A-02")]


def test_status_asks_each_board_of_the_layout_once(
    peer: LockerBoardPeer, locker: Rs485Locker, protocol: str, first: int,
) -> None:
    locker.status()
    assert peer.requests == [Query(first, Sensors.DOORS) if protocol == "8a80"
                             else AskStatus(first)]
    assert Unlock(first, 1) not in peer.requests
