"""Records: audit events declared with their fields, and the durable locker inventory."""

from __future__ import annotations

import ast
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from kiosk.records.audit import AuditLog, UndeclaredAuditEvent, check_event, declared_events
from kiosk.records.locker_store import LockerInventory, LockerItem

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


def test_locker_inventory_survives_a_restart_and_a_collection(tmp_path: Path) -> None:
    path = tmp_path / "locker.db"
    first = LockerInventory(path)
    first.load(LockerItem(3, "h1", "营业执照", "Business licence"))
    first.load(LockerItem(5, "h2", "就业创业证", "Employment certificate"))
    first.collected(3)
    first.close()
    again = LockerInventory(path)
    assert again.items() == [LockerItem(5, "h2", "就业创业证", "Employment certificate")]
    assert again.for_citizen("h2")[0].door == 5 and again.for_citizen("h1") == []
    again.close()


def test_locker_inventory_is_as_durable_as_the_outbox(tmp_path: Path) -> None:
    inventory = LockerInventory(tmp_path / "locker.db")
    inventory.load(LockerItem(1, "h", "证", "Cert"))
    conn = inventory._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    inventory.close()
    # committed: another connection sees it at once
    other = sqlite3.connect(tmp_path / "locker.db")
    assert other.execute("SELECT door FROM locker_items").fetchall() == [(1,)]
    other.close()


def test_an_old_json_inventory_is_taken_over_once(tmp_path: Path) -> None:
    legacy = tmp_path / "locker.json"
    legacy.write_text(json.dumps([{"door": 7, "citizen_hash": "h", "title_zh": "营业执照",
                                   "title_en": "Business licence"}]), encoding="utf-8")
    inventory = LockerInventory(tmp_path / "locker.db")
    assert [i.door for i in inventory.items()] == [7]
    assert not legacy.exists() and (tmp_path / "locker.json.imported").exists()
    inventory.close()


def test_a_corrupt_json_inventory_is_left_for_staff_not_lost(tmp_path: Path) -> None:
    legacy = tmp_path / "locker.json"
    legacy.write_text("[{not json", encoding="utf-8")
    inventory = LockerInventory(tmp_path / "locker.db")
    assert inventory.items() == [] and legacy.exists()
    inventory.close()
