"""Bank staff sign in with the bank's own sign-on (`bank_teller_login`), which the reference
back office stands in for over loopback HTTP: a registered teller's password signs in as the
bank profile's teller role; a wrong one, an unknown teller and an unreachable sign-on are
refused and audited; the technician's PIN still signs in by PIN; no password is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from kiosk.config.profile import load_profile
from kiosk.config.settings import FakeClock
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.records.audit import AuditLog
from kiosk.records.staff_pins import StaffPins
from kiosk.staff import StaffDesk

pytestmark = pytest.mark.realstack
PASSWORD = "lobby-2026-spring"


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[RunningBackOffice]:
    running = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    answer = requests.post(running.url + "/v1/tellers", headers=running.headers, timeout=10,
                           json={"teller": "B-0001", "password": PASSWORD})
    assert answer.status_code == 200
    yield running
    running.stop()


def desk_at(url: str, token: str, tmp_path: Path) -> StaffDesk:
    pins = StaffPins(tmp_path / "staff-pins.db")
    pins.set_pin("T-07", "technician", "482915")
    audit = AuditLog(tmp_path / "audit.jsonl", FakeClock(), strict=True)
    return StaffDesk(load_profile("bank-branch").staff, pins, audit, FakeClock(), "BK-0001",
                     tellers=BackOfficeClient(url, token=token, timeout_s=2))


def test_a_teller_signs_on_through_the_bank_and_a_pin_still_signs_in(
        bank: RunningBackOffice, tmp_path: Path) -> None:
    desk = desk_at(bank.url, bank.token, tmp_path)
    signed = desk.sign_in("B-0001", PASSWORD)
    assert signed.ok and signed.member is not None
    assert (signed.member.role.id, signed.member.how) == ("bank_staff", "bank_teller_login")
    assert desk.sign_in("B-0001", PASSWORD + "x").reason == "unknown_staff"
    assert desk.sign_in("B-9999", PASSWORD).reason == "unknown_staff"  # no telling which
    technician = desk.sign_in("T-07", "482915")
    assert technician.ok and technician.member is not None
    assert technician.member.how == "pin"
    log = (tmp_path / "audit.jsonl").read_text()
    assert PASSWORD not in log
    signed_in = [json.loads(line) for line in log.splitlines()
                 if json.loads(line)["event"] == "staff_signed_in"]
    assert [(e["staff_id"], e["how"]) for e in signed_in] == \
        [("B-0001", "bank_teller_login"), ("T-07", "pin")]


def test_an_unreachable_sign_on_is_said_as_such(bank: RunningBackOffice,
                                                 tmp_path: Path) -> None:
    url, token = bank.url, bank.token
    bank.stop()
    desk = desk_at(url, token, tmp_path)
    assert desk.sign_in("B-0001", PASSWORD).reason == "sign_on_unreachable"
    assert desk.current() is None
