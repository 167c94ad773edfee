"""Calls for help at the reference back office, over loopback HTTP, on SQLite and on
PostgreSQL: a terminal's `staff.call` envelope becomes an open call (once, however often it is
sent) with its terminal, screen and wait; staff list the open ones and take one, once; a call
off the contract is rejected by name and leaves no call; and every answer keeps to
docs/backoffice-openapi.json."""

from __future__ import annotations

import time
from typing import Any

import pytest

from backoffice import RunningBackOffice
from tests.test_backoffice_ratings import call, envelope

pytestmark = pytest.mark.realstack
TERMINAL = "SH-PD-0001"


@pytest.fixture
def bo(backoffice_on_each_engine: RunningBackOffice) -> RunningBackOffice:
    return backoffice_on_each_engine


def help_call(**changes: Any) -> dict[str, Any]:
    """A staff.call payload as kiosk/session/staff_call.py sends it."""
    doc: dict[str, Any] = {"terminal_id": TERMINAL, "at": time.time() - 30, "screen": "verify",
                           "waited_s": 42.5}
    doc.update(changes)
    return doc


def send(bo: RunningBackOffice, key: str, doc: dict[str, Any]) -> dict[str, Any]:
    answer = call(bo, "post", "/v1/envelopes",
                  json={"envelopes": [envelope(key, doc, "staff.call")]})
    result: dict[str, Any] = answer.json()["results"][0]
    return result


def test_a_call_is_listed_open_with_its_screen_and_wait_and_taken_once(
        bo: RunningBackOffice) -> None:
    assert send(bo, "staff.call:v-1", help_call())["status"] == "accepted"
    assert send(bo, "staff.call:v-1", help_call())["status"] == "duplicate"  # resent
    send(bo, "staff.call:v-2", help_call(screen="fill", at=time.time() - 5))
    listed = call(bo, "get", "/v1/calls").json()["calls"]
    assert [c["idempotency_key"] for c in listed] == ["staff.call:v-1", "staff.call:v-2"]
    first = listed[0]
    assert (first["terminal_id"], first["screen"], first["waited_s"], first["status"]) == \
        (TERMINAL, "verify", 42.5, "open")
    assert 29 <= first["age_s"] < 300  # how long the citizen has waited since calling

    taken = call(bo, "post", "/v1/calls/staff.call:v-1/take", json={"staff": "S-1001"})
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["taken_by"]) == ("taken", "S-1001")
    again = call(bo, "post", "/v1/calls/staff.call:v-1/take", json={"staff": "S-1002"})
    assert again.status_code == 409 and "S-1001" in again.json()["error"]
    assert call(bo, "get", "/v1/calls/staff.call:v-1").json()["taken_by"] == "S-1001"
    assert [c["idempotency_key"] for c in call(bo, "get", "/v1/calls").json()["calls"]] == \
        ["staff.call:v-2"]
    assert len(call(bo, "get", "/v1/calls", params={"status": "all"}).json()["calls"]) == 2
    assert [c["idempotency_key"] for c in call(bo, "get", "/v1/calls",
                                               params={"status": "taken"}).json()["calls"]] \
        == ["staff.call:v-1"]


def test_unknown_calls_and_bad_staff_numbers_are_refused(bo: RunningBackOffice) -> None:
    assert call(bo, "get", "/v1/calls/staff.call:none").status_code == 404
    assert call(bo, "post", "/v1/calls/staff.call:none/take",
                json={"staff": "S-1"}).status_code == 404
    send(bo, "staff.call:v-3", help_call())
    for staff in ("", "王 芳", 7, None):
        refused = call(bo, "post", "/v1/calls/staff.call:v-3/take", json={"staff": staff})
        assert refused.status_code == 400 and "staff" in refused.json()["error"]
    assert call(bo, "get", "/v1/calls/staff.call:v-3").json()["status"] == "open"


@pytest.mark.parametrize(("changes", "field"), [
    ({"screen": "Identify!"}, "screen"),
    ({"screen": None}, "screen"),
    ({"terminal_id": ""}, "terminal_id"),
    ({"waited_s": -1}, "waited_s"),
    ({"waited_s": "long"}, "waited_s"),
    ({"at": True}, "at"),
])
def test_a_call_off_the_contract_is_rejected_by_name_and_leaves_no_call(
        bo: RunningBackOffice, changes: dict[str, Any], field: str) -> None:
    result = send(bo, "staff.call:bad", help_call(**changes))
    assert result["status"] == "rejected" and field in result["detail"]
    assert call(bo, "get", "/v1/calls", params={"status": "all"}).json()["calls"] == []
