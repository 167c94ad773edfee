"""Records: audit events declared with their fields, and the durable locker inventory."""

from __future__ import annotations

import ast
import json
import logging
import sqlite3
import stat
from pathlib import Path

import pytest

from kiosk.records.audit import AuditLog, UndeclaredAuditEvent, check_event, declared_events
from kiosk.records.citizen_key import CitizenKey
from kiosk.records.locker_store import LockerInventory, LockerKeyMismatch

KEY = CitizenKey.random()

ROOT = Path(__file__).resolve().parent.parent


def record_calls(tree: ast.AST) -> list[tuple[str, set[str], int]]:
    """Every `<...>.record("event", field=...)` call: event, fields, line."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            fields = {k.arg for k in node.keywords if k.arg is not None}
            found.append((node.args[0].value, fields, node.lineno))
    return found


def test_every_audit_call_in_the_code_names_a_declared_event_with_its_fields() -> None:
    problems = []
    calls = 0
    for path in sorted((ROOT / "kiosk").rglob("*.py")):
        for event, fields, line in record_calls(ast.parse(path.read_text(encoding="utf-8"))):
            calls += 1
            problem = check_event(event, fields)
            if problem:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {problem}")
    assert calls >= 15 and problems == []


def test_the_call_site_check_sees_an_undeclared_field() -> None:
    tree = ast.parse('audit.record("receipt_printed", service="x", id_number="1")\n'
                     'audit.record("no_such_event")\n')
    (first, _, _), (second, _, _) = record_calls(tree)
    assert check_event(first, {"service", "id_number"}) is not None
    assert check_event(second, set()) is not None


def test_strict_log_refuses_an_undeclared_event_or_field() -> None:
    log = AuditLog(None, strict=True)
    with pytest.raises(UndeclaredAuditEvent, match="not declared"):
        log.record("receipt_printd", service="x")
    with pytest.raises(UndeclaredAuditEvent, match="undeclared"):
        log.record("receipt_printed", service="x", copies=2)
    with pytest.raises(UndeclaredAuditEvent, match="missing"):
        log.record("receipt_printed")
    assert log.recent == []


def test_in_the_field_an_undeclared_field_is_logged_and_still_recorded(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    log = AuditLog(tmp_path / "audit.jsonl", strict=False)
    with caplog.at_level(logging.ERROR, logger="kiosk.records.audit"):
        log.record("receipt_printed", service="x", copies=2)
    log.close()
    assert "undeclared ['copies']" in caplog.text
    (line,) = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["copies"] == 2


def test_personal_data_is_never_recorded_strict_or_not() -> None:
    for strict in (True, False):
        with pytest.raises(ValueError, match="personal data"):
            AuditLog(None, strict=strict).record("receipt_printed", service="x", name="张三")
    assert all("name" not in spec.fields for spec in declared_events().values())


ZHANG, LI = "310115198001010024", "310104195503150040"


def test_locker_inventory_survives_a_restart_and_a_collection(tmp_path: Path) -> None:
    path = tmp_path / "locker.db"
    first = LockerInventory(path, KEY)
    first.load(3, "APP-3", "营业执照", "Business licence", ZHANG, now=100.0, keep_s=50.0)
    first.load(5, "APP-5", "就业创业证", "Employment certificate", LI, now=100.0, keep_s=500.0)
    assert first.collected(3) and not first.collected(3)  # once
    first.close()
    again = LockerInventory(path, KEY)
    (left,) = again.items()
    assert (left.door, left.application_no, left.due_at) == (5, "APP-5", 600.0)
    assert [i.door for i in again.for_identity(f" {LI.lower()} ")] == [5]  # as typed
    assert again.for_identity(ZHANG) == []  # collected: no longer matched
    assert [i.door for i in again.overdue(now=700.0)] == [5] and again.overdue(now=200.0) == []
    again.close()


def test_locker_inventory_is_as_durable_as_the_outbox(tmp_path: Path) -> None:
    inventory = LockerInventory(tmp_path / "locker.db", KEY)
    inventory.load(1, "APP-1", "证", "Cert", ZHANG, now=0.0, keep_s=10.0)
    conn = inventory._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    inventory.close()
    # committed: another connection sees it at once
    other = sqlite3.connect(tmp_path / "locker.db")
    assert other.execute("SELECT door FROM items").fetchall() == [(1,)]
    other.close()


def test_no_id_number_or_pickup_code_is_kept_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "locker.db"
    store = LockerInventory(path, KEY)
    store.load(1, "APP-1", "证", "Cert", ZHANG, now=0.0, keep_s=10.0)
    store.load(2, "APP-2", "证", "Cert", ZHANG, now=0.0, keep_s=10.0)
    assert store.set_code("APP-1", "482913")
    assert store.for_code("482913").door == 1 and store.for_code("482914") is None
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("locker"))
    assert ZHANG.encode() not in raw and b"482913" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    salts = {r[0] for r in conn.execute("SELECT assignee_salt FROM items")}
    hashes = {r[0] for r in conn.execute("SELECT assignee_hash FROM items")}
    conn.close()
    assert len(salts) == len(hashes) == 2  # the same citizen twice: two salts, two hashes
    with pytest.raises(LockerKeyMismatch, match="another citizen-hash key"):
        LockerInventory(path, CitizenKey.random())  # re-enrolled: staff retrieve, not guess
    again = LockerInventory(path, KEY)
    assert [i.door for i in again.for_identity(ZHANG)] == [1, 2]
    again.close()


def test_a_door_intent_outlives_a_crash_until_it_is_resolved(tmp_path: Path) -> None:
    path = tmp_path / "locker.db"
    store = LockerInventory(path, KEY)
    store.load(4, "APP-4", "证", "Cert", ZHANG, now=0.0, keep_s=10.0)
    intent = store.intend(4, "pickup", "APP-4", 1.0)
    store.close()  # the terminal is killed before the board answers
    again = LockerInventory(path, KEY)
    (open_intent,) = again.unresolved()
    assert (open_intent.id, open_intent.door, open_intent.opened) == (intent, 4, None)
    again.door_answered(intent, True)
    again.resolve(intent, "collected", 2.0)
    assert again.unresolved() == []
    again.close()


def test_items_of_an_older_version_go_to_staff_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "locker.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE locker_items (door INTEGER PRIMARY KEY, citizen_hash TEXT,"
                 " title_zh TEXT, title_en TEXT)")
    conn.execute("INSERT INTO locker_items VALUES (7, 'plainhash', '营业执照', 'Licence')")
    conn.commit()
    conn.close()
    store = LockerInventory(path, KEY)
    (item,) = store.items()
    assert (item.door, item.state) == (7, "needs_staff") and store.overdue(0.0) == [item]
    store.close()


def test_staff_pins_are_slow_salted_hashes_with_a_growing_lockout(tmp_path: Path) -> None:
    from kiosk.records.staff_pins import FREE_TRIES, StaffPins

    pins = StaffPins(tmp_path / "pins.db")
    pins.set_pin("S-1", "locker_clerk", "135790")
    with pytest.raises(ValueError, match="6 to 12 digits"):
        pins.set_pin("S-2", "locker_clerk", "12ab")
    assert pins.sign_in("S-1", "135790", 0.0).role == "locker_clerk"
    assert pins.sign_in("S-9", "135790", 0.0).reason == "unknown_staff"
    tries = [pins.sign_in("S-1", "000000", 10.0) for _ in range(FREE_TRIES)]
    assert [t.reason for t in tries] == ["wrong_pin"] * (FREE_TRIES - 1) + ["locked"]
    assert tries[-1].locked_until == 40.0  # 30 s after the fifth
    assert pins.sign_in("S-1", "135790", 39.0).reason == "locked"  # even the right one
    assert pins.sign_in("S-1", "000000", 41.0).locked_until == 41.0 + 60  # then it doubles
    assert pins.sign_in("S-1", "135790", 102.0).ok  # and a right PIN clears it
    assert pins.sign_in("S-1", "000000", 103.0).reason == "wrong_pin"
    pins.close()
    raw = (tmp_path / "pins.db").read_bytes()
    assert b"135790" not in raw and stat.S_IMODE((tmp_path / "pins.db").stat().st_mode) == 0o600
