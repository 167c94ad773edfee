"""Collecting from the locker in the session, with the in-memory locker: by ID card or by
pickup code, every door opening journaled and settled by the sensors, wrong codes slowed
down, a jam reported to staff and never re-driven, a door left open reminded; and the
reconciliation of what a crash left open."""

from __future__ import annotations

import json
from typing import Any

from devices.id_reader.protocol import Identity
from devices.locker.protocol import DoorState
from kiosk.config.catalogue import Intent
from kiosk.locker.reconcile import reconcile
from kiosk.session import State
from kiosk.session.collect import CODE_TRIES, code_locked_until
from tests.flows import identify, load_item, open_door_7


def events(rig: Any, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p) for k, p, _ in rig.sink.envelopes if k == kind]


def to_collect(rig: Any) -> Any:
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    assert s.state is State.IDENTIFY
    return s


def test_collection_is_journaled_and_settled_by_the_sensors(rig: Any,
                                                            citizen: Identity) -> None:
    s = open_door_7(rig, citizen)
    (intent,) = rig.inventory.unresolved()
    assert (intent.door, intent.purpose, intent.opened) == (7, "pickup", True)
    rig.locker.citizen_takes_item_and_closes(7)
    rig.tick()
    assert s.state is State.DONE and rig.inventory.unresolved() == []
    (collected,) = events(rig, "locker.collected")
    assert collected["door"] == 7 and collected["application_no"] == "APP-0007"


def test_a_door_closed_on_the_item_is_not_collected(rig: Any, citizen: Identity) -> None:
    s = open_door_7(rig, citizen)
    rig.locker.close(7)  # closed, the certificate still inside
    rig.tick()
    assert (s.state, s.notice.key) == (State.DONE, "item_not_taken")
    assert [i.door for i in rig.inventory.items()] == [7] and events(rig, "locker.collected") == []


def test_a_jammed_door_tells_staff_and_is_never_driven_again(rig: Any,
                                                             citizen: Identity) -> None:
    load_item(rig, 3, citizen)
    rig.locker.load(3)
    rig.locker.jam.add(3)
    s = to_collect(rig)
    identify(rig, citizen)
    assert (s.state, s.notice.key) == (State.DONE, "door_failed")
    assert [e["door"] for e in events(rig, "locker.door_jammed")] == [3]
    assert rig.locker.opened == [] and rig.inventory.unresolved() == []
    assert [i.door for i in rig.inventory.items()] == [3]  # still the citizen's


def test_a_door_left_open_is_reminded_then_handed_to_staff(rig: Any, citizen: Identity) -> None:
    s = open_door_7(rig, citizen)
    rig.tick(s.d.timings.door_reminder_s + 1)
    assert s.notice.key == "door_close_reminder" and s.state is State.HANDOVER
    rig.tick(s.d.timings.door_close_wait_s)
    assert s.state is State.GOODBYE and events(rig, "locker.door_left_open")
    (left_open,) = rig.inventory.unresolved()  # settled later, by the locker watch
    assert left_open.door == 7


def test_in_elder_mode_the_door_limits_are_doubled(rig: Any, citizen: Identity) -> None:
    s = open_door_7(rig, citizen)
    s.set_elder(True)
    rig.tick(s.d.timings.door_reminder_s + 1)
    assert s.notice is None  # not yet: twice the time
    rig.tick(s.d.timings.door_reminder_s)
    assert s.notice.key == "door_close_reminder"


def test_a_pickup_code_opens_its_door_without_a_document(rig: Any, citizen: Identity) -> None:
    load_item(rig, 5, citizen)
    rig.locker.load(5)
    assert rig.inventory.set_code("APP-0005", "604218")
    s = to_collect(rig)
    s.pickup_code("604 218")
    assert s.state is State.HANDOVER and rig.locker.opened == [5]
    assert s.identity is None  # no personal data came with a code


def test_wrong_codes_are_slowed_down_and_said_so(rig: Any, citizen: Identity) -> None:
    load_item(rig, 5, citizen)
    rig.inventory.set_code("APP-0005", "604218")
    s = to_collect(rig)
    for n in range(1, CODE_TRIES):
        s.pickup_code("000000")
        assert s.notice.key == "code_wrong" and s.notice.param("left") == str(CODE_TRIES - n)
    s.pickup_code("111111")
    assert s.notice.key == "code_locked"
    s.pickup_code("604218")  # even the right code waits out the pause
    assert s.state is State.IDENTIFY and rig.locker.opened == []
    assert events(rig, "locker.codes_locked")
    rig.clock.advance(61)
    s.pickup_code("604218")
    assert s.state is State.HANDOVER
    # The right code clears nothing: whoever guesses between their own pickups gains nothing.
    assert len(rig.inventory.code_failures(since=0)) == CODE_TRIES


def test_two_items_never_answer_to_one_pickup_code(rig: Any, citizen: Identity) -> None:
    load_item(rig, 5, citizen)
    load_item(rig, 6, citizen)
    assert rig.inventory.set_code("APP-0005", "604218")
    assert not rig.inventory.set_code("APP-0006", "604218")  # it would open door 5
    assert rig.inventory.for_code("604218").door == 5


def test_a_new_opening_of_a_door_supersedes_one_left_open_there(rig: Any,
                                                                 citizen: Identity) -> None:
    inv, wall = rig.inventory, rig.clock.wall()
    load_item(rig, 7, citizen)
    first = inv.intend(7, "pickup", "APP-0007", wall)  # the door was left open
    second = inv.intend(7, "pickup", "APP-0007", wall + 60)  # the citizen came back
    assert [i.id for i in inv.unresolved()] == [second] and first != second


def test_the_pause_after_wrong_codes_doubles_each_time() -> None:
    five = [float(i) for i in range(CODE_TRIES)]
    assert code_locked_until(five[:-1]) is None
    assert code_locked_until(five) == 4.0 + 60
    assert code_locked_until(five * 2) == 4.0 + 120
    assert code_locked_until(five * 40) == 4.0 + 3600  # capped at an hour


def test_reconcile_settles_what_a_crash_left_open_and_hands_the_rest_to_staff(
        rig: Any, citizen: Identity) -> None:
    inv, wall = rig.inventory, rig.clock.wall()
    for door in (1, 2, 3, 4):
        load_item(rig, door, citizen)
        inv.intend(door, "pickup", f"APP-{door:04d}", wall)  # killed before the answer
    states = {1: DoorState(1, False, False),  # taken and closed
              2: DoorState(2, False, True),  # still inside
              3: None,  # the board does not answer
              4: DoorState(4, True, False)}  # still open
    found = {f.door: (f.outcome, f.settled) for f in reconcile(
        inv, states, sink=rig.sink, audit=rig.audit, terminal_id="T", now=wall)}
    assert found == {1: ("collected", True), 2: ("not_taken", True),
                     3: ("board_silent", False), 4: ("open", False)}
    assert [i.door for i in inv.items()] == [2, 3, 4]
    assert [e["door"] for e in events(rig, "locker.collected")] == [1]
    assert sorted(e["door"] for e in events(rig, "locker.needs_staff")) == [3, 4]
    again = reconcile(inv, states, sink=rig.sink, audit=rig.audit, terminal_id="T", now=wall)
    assert len(events(rig, "locker.needs_staff")) == 2 and len(again) == 2  # told once


def test_a_loading_the_crash_interrupted_is_settled_by_the_item_sensor(
        rig: Any, citizen: Identity) -> None:
    inv, wall = rig.inventory, rig.clock.wall()
    for door in (8, 9):
        inv.begin_loading(door, f"APP-{door}", "证", "Cert", citizen.id_number, now=wall,
                          keep_s=100.0)
        inv.intend(door, "load", f"APP-{door}", wall)
    states = {8: DoorState(8, False, True), 9: DoorState(9, False, False)}
    found = {f.door: f.outcome for f in reconcile(
        inv, states, sink=rig.sink, audit=rig.audit, terminal_id="T", now=wall)}
    assert found == {8: "loaded", 9: "load_abandoned"}
    assert [i.door for i in inv.items()] == [8] and inv.occupied() == {8}
    assert [i.door for i in inv.for_identity(citizen.id_number)] == [8]


def test_a_board_without_item_sensors_hands_the_collection_to_staff(
        rig: Any, citizen: Identity) -> None:
    inv, wall = rig.inventory, rig.clock.wall()
    load_item(rig, 6, citizen)
    inv.intend(6, "pickup", "APP-0006", wall)
    (f,) = reconcile(inv, {6: DoorState(6, False, False, item_known=False)}, sink=rig.sink,
                     audit=rig.audit, terminal_id="T", now=wall)
    assert f.outcome == "to_staff" and inv.item(6).state == "needs_staff"
    assert events(rig, "locker.collected") == []


def test_the_phones_identity_qr_code_collects_like_the_id_card(rig: Any,
                                                                citizen: Identity) -> None:
    from dataclasses import replace

    from devices.id_reader.protocol import DocumentKind

    load_item(rig, 9, citizen)
    rig.locker.load(9)
    s = to_collect(rig)
    identify(rig, replace(citizen, kind=DocumentKind.QR_CODE))
    assert s.state is State.HANDOVER and rig.locker.opened == [9]


def test_a_crash_between_an_ending_and_its_record_ends_in_one_event_each(
        rig: Any, citizen: Identity) -> None:
    """Each ending queues its event (keyed by the door intent) before it records itself; a
    kill -9 on either side is found again at the next start, with one event all told."""
    inv, wall = rig.inventory, rig.clock.wall()
    load_item(rig, 1, citizen)
    picked = inv.intend(1, "pickup", "APP-0001", wall)
    inv.collected(1)  # recorded, then killed before the intent was settled
    inv.begin_loading(2, "APP-2", "证", "Cert", citizen.id_number, now=wall, keep_s=10.0)
    loaded = inv.intend(2, "load", "APP-2", wall)
    inv.confirm_loaded(2)
    load_item(rig, 3, citizen)
    taken = inv.intend(3, "retrieve", "APP-0003", wall)
    inv.retrieved(3)
    from kiosk.records.submission import queue_event

    queue_event(rig.sink, "locker.collected", {"door": 1},
                key=inv.event_key("collected", picked))
    states = {1: DoorState(1, False, False), 2: DoorState(2, False, True),
              3: DoorState(3, False, False)}
    found = {f.door: f.outcome for f in reconcile(
        inv, states, sink=rig.sink, audit=rig.audit, terminal_id="T", now=wall)}
    assert found == {1: "collected", 2: "loaded", 3: "retrieved"}
    keys = [key for _, _, key in rig.sink.envelopes]
    assert sorted(keys) == sorted([inv.event_key("collected", picked),
                                   inv.event_key("loaded", loaded),
                                   inv.event_key("retrieved", taken)])  # one each
    assert inv.unresolved() == [] and [i.door for i in inv.items()] == [2]


def test_a_new_locker_database_never_reuses_an_earlier_ones_event_keys(tmp_path: Any) -> None:
    from kiosk.records.locker_store import LockerInventory

    first = LockerInventory(tmp_path / "a.db")
    key = first.event_key("collected", 1)
    first.close()
    assert LockerInventory(tmp_path / "a.db").event_key("collected", 1) == key  # kept
    assert LockerInventory(tmp_path / "b.db").event_key("collected", 1) != key  # a new one


def test_the_locker_watch_leaves_the_citizen_at_the_screen_alone(rig: Any,
                                                                 citizen: Identity) -> None:
    from kiosk.locker.watch import LockerWatch

    s = open_door_7(rig, citizen)
    watch = LockerWatch(rig.inventory, s.d.devices.locker, sink=rig.sink, audit=rig.audit,
                        terminal_id="T", clock=rig.clock, call_timeout_s=1, interval_s=60,
                        in_use=lambda: s.door_intent)
    rig.locker.citizen_takes_item_and_closes(7)
    assert watch.run_once() == []  # the session's own door: the session settles it
    rig.tick()
    assert s.state is State.DONE and len(events(rig, "locker.collected")) == 1
    s.finish()
    assert watch.run_once() == []  # nothing left open
