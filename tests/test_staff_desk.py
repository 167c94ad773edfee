"""The staff desk: PIN sign-in by the profile's roles, a lockout after five wrong PINs whose
wait grows, staff sessions that time out, actions allowed only to roles that may do them, and
every one of these in the audit log with the staff number, the role and the terminal (never
the PIN)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.config.profile import load_profile
from kiosk.config.settings import FakeClock
from kiosk.records.audit import AuditLog
from kiosk.records.staff_pins import FIRST_LOCK_S, FREE_TRIES, StaffPins
from kiosk.staff import StaffDesk

PIN = "482915"
TERMINAL = "SH-PD-0001"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit(tmp_path: Path, clock: FakeClock) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl", clock, strict=True)


@pytest.fixture
def desk(tmp_path: Path, clock: FakeClock, audit: AuditLog) -> StaffDesk:
    pins = StaffPins(tmp_path / "staff-pins.db")
    pins.set_pin("T-07", "technician", PIN)
    pins.set_pin("L-02", "locker_clerk", PIN)
    pins.set_pin("H-01", "hall_staff", PIN)  # a badge role: a PIN is not its way in
    return StaffDesk(load_profile("gov-hall").staff, pins, audit, clock, TERMINAL, idle_s=120)


def events(tmp_path: Path, name: str) -> list[dict[str, object]]:
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == name]


def test_a_pin_signs_in_as_the_role_and_is_audited_without_the_pin(
        desk: StaffDesk, tmp_path: Path) -> None:
    signed = desk.sign_in_pin("T-07", PIN)
    assert signed.ok and signed.member is not None
    assert (signed.member.role.id, signed.member.how) == ("technician", "pin")
    assert desk.current() == signed.member
    [entry] = events(tmp_path, "staff_signed_in")
    assert (entry["staff_id"], entry["role"], entry["how"], entry["terminal_id"]) == \
        ("T-07", "technician", "pin", TERMINAL)
    assert PIN not in (tmp_path / "audit.jsonl").read_text()


def test_five_wrong_pins_lock_out_and_the_wait_grows(desk: StaffDesk, clock: FakeClock,
                                                      tmp_path: Path) -> None:
    for left in range(FREE_TRIES - 1, 0, -1):
        signed = desk.sign_in_pin("T-07", "000000")
        assert (signed.ok, signed.reason, signed.tries_left) == (False, "wrong_pin", left)
    first = desk.sign_in_pin("T-07", "000000")
    assert first.reason == "locked" and first.locked_until is not None
    assert first.locked_until - clock.wall() == pytest.approx(FIRST_LOCK_S)
    assert desk.sign_in_pin("T-07", PIN).reason == "locked"  # even the right PIN, now
    clock.advance(FIRST_LOCK_S + 1)
    second = desk.sign_in_pin("T-07", "000000")  # one more wrong: a longer wait
    assert second.reason == "locked" and second.locked_until is not None
    assert second.locked_until - clock.wall() == pytest.approx(2 * FIRST_LOCK_S)
    assert len(events(tmp_path, "staff_locked_out")) == 3
    assert desk.current() is None
    clock.advance(2 * FIRST_LOCK_S + 1)
    assert desk.sign_in_pin("T-07", PIN).ok  # the wait over, the right PIN signs in


def test_a_staff_session_times_out_and_a_touch_keeps_it(desk: StaffDesk, clock: FakeClock,
                                                         tmp_path: Path) -> None:
    desk.sign_in_pin("L-02", PIN)
    clock.advance(100)
    desk.touched()
    clock.advance(100)
    assert desk.current() is not None  # 100 s since the last touch
    clock.advance(21)
    assert desk.current() is None
    [ended] = events(tmp_path, "staff_signed_out")
    assert (ended["staff_id"], ended["reason"]) == ("L-02", "timed_out")


def test_actions_only_for_roles_that_may_and_each_audited(desk: StaffDesk,
                                                          tmp_path: Path) -> None:
    assert not desk.act("retry_queue", "retry_envelope")  # nobody signed in
    desk.sign_in_pin("L-02", PIN)
    assert desk.act("load_locker", "locker_loaded")
    assert not desk.act("diagnose", "selftest")  # a locker clerk may not
    done = events(tmp_path, "staff_action")
    refused = events(tmp_path, "staff_action_refused")
    assert [(e["role"], e["action"]) for e in done] == [("locker_clerk", "load_locker")]
    assert [(e["staff_id"], e["action"]) for e in refused] == \
        [(None, "retry_queue"), ("L-02", "diagnose")]
    desk.sign_out()
    assert desk.current() is None
    assert events(tmp_path, "staff_signed_out")[0]["reason"] == "signed_out"


def test_a_badge_role_cannot_sign_in_with_a_pin_and_unknown_staff_are_told_nothing_more(
        desk: StaffDesk, tmp_path: Path) -> None:
    assert desk.sign_in_pin("H-01", PIN).reason == "wrong_way"
    assert desk.sign_in_pin("X-99", PIN).reason == "unknown_staff"
    assert desk.sign_in_pin("L-02", PIN, for_action="diagnose").reason == "not_allowed"
    assert [e["reason"] for e in events(tmp_path, "staff_sign_in_failed")] == \
        ["wrong_way", "unknown_staff", "not_allowed"]
    assert desk.current() is None


def test_a_staff_badge_signs_in_once_per_presentation_and_unknown_ones_are_refused(
        tmp_path: Path, clock: FakeClock, audit: AuditLog) -> None:
    pins = StaffPins(tmp_path / "staff-pins.db")
    badge = bytes.fromhex("04A1B2C3D4E5F6")
    pins.set_badge("H-01", "hall_staff", badge)
    on_reader: list[bytes | None] = [None]
    desk = StaffDesk(load_profile("gov-hall").staff, pins, audit, clock, TERMINAL,
                     badges=lambda: on_reader[0])
    assert desk.try_badge() is None  # nothing on the reader
    on_reader[0] = bytes.fromhex("DEADBEEF")
    refused = desk.try_badge()
    assert refused is not None and refused.reason == "unknown_badge"
    assert desk.try_badge() is None  # the same card still there: not tried again
    on_reader[0] = badge
    signed = desk.try_badge()
    assert signed is not None and signed.ok and signed.member is not None
    assert (signed.member.staff_id, signed.member.role.id, signed.member.how) == \
        ("H-01", "hall_staff", "badge")
    assert badge.hex() not in (tmp_path / "staff-pins.db").read_bytes().hex()  # an HMAC only
    pins.set_badge("T-07", "technician", bytes.fromhex("01020304"))  # a PIN role's badge
    assert desk.sign_in_badge(bytes.fromhex("01020304")).reason == "wrong_way"


def test_a_technician_registers_a_badge_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kiosk.cli", "staff", *args,
                               "--config", "gov-hall", "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60)

    done = kiosk("set-badge", "H-01", "--role", "hall_staff", "--uid", "04:A1:B2:C3")
    assert done.returncode == 0, done.stderr
    pins = StaffPins(tmp_path / "staff-pins.db")
    assert pins.badge_holder(bytes.fromhex("04A1B2C3")) == ("H-01", "hall_staff")
    wrong = kiosk("set-badge", "T-07", "--role", "technician", "--uid", "01020304")
    assert wrong.returncode != 0 and "signs in with pin, not a badge" in wrong.stderr
    bad = kiosk("set-badge", "H-02", "--role", "hall_staff", "--uid", "zz")
    assert bad.returncode != 0 and "not hexadecimal" in bad.stderr
    assert "04a1b2c3" not in (tmp_path / "audit.jsonl").read_text().lower()
