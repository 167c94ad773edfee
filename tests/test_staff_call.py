"""A call for help reaches people: the whole terminal (outbox, sync, session) against the
reference back office on loopback. The call goes through the outbox with the screen and the
wait; the citizen is told "please wait here" until a member of staff takes the call at the back
office, and only then that someone is on the way; a call made offline arrives when the network
is back; out of staffed hours nobody is asked and the hotline is given."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice.running import start_in_thread
from kiosk.config.catalogue import Intent
from kiosk.config.settings import FakeClock
from kiosk.session import State
from kiosk.session.staff_call import call_key
from kiosk.session.view import Notice
from screens.i18n import notice_text
from tests.test_terminal import make_terminal
from tests.waits import wait_until

pytestmark = pytest.mark.realstack


def words(view: Any, lang: str = "en") -> str:
    """What the frame says of the call (screens/shell.py: the session's notice, or the call's
    own when the screen has none of its own)."""
    notice = view.notice
    if notice is None or notice.key == "staff_called":
        notice = Notice("staff_called", (("when", view.staff_when),))
    return notice_text(lang, notice, hotline="12345", hours="09:00-17:00")


def test_a_call_is_taken_at_the_back_office_then_the_citizen_is_told_staff_are_coming(
        tmp_path: Path) -> None:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    clock = FakeClock(wall_start=time.time())
    terminal = make_terminal(tmp_path / "kiosk", bo, clock, call_check_s=0.05)
    terminal.start()
    try:
        s = terminal.session
        s.d.staffed = None  # staff on duty at any hour
        s.touch()
        s.choose_intent(Intent.APPLY)
        s.choose("household_proof")
        clock.advance(40)  # stuck on the identify screen for 40 s
        s.call_staff()
        assert s.view().staff_when == "staffed"
        assert words(s.view()) == "Staff have been called: please wait here"
        key = call_key(s)
        wait_until(lambda: terminal.sync.wait_until_drained(1), 20, "the call delivered")
        listed = requests.get(bo.url + "/v1/calls", headers=bo.headers, timeout=10).json()
        assert [(c["idempotency_key"], c["screen"], c["waited_s"]) for c in listed["calls"]] \
            == [(key, "identify", 40.0)]
        clock.advance(1)
        s.tick()
        assert s.view().staff_when == "staffed"  # asked, and nobody has taken it yet

        took = requests.post(bo.url + f"/v1/calls/{key}/take", headers=bo.headers,
                             json={"staff": "S-1001"}, timeout=10)
        assert took.status_code == 200

        def told() -> bool:
            clock.advance(0.1)
            s.tick()
            return s.view().staff_when == "taken"

        wait_until(told, 20, "the citizen told that the call was taken")
        assert s.state in (State.IDENTIFY, State.CONSENT)  # the citizen is still there
        assert words(s.view()) == \
            "A member of staff has your call and is on the way: please wait here"
        assert "on the way" not in notice_text("en", Notice("staff_called", (("when",
                                                                               "staffed"),)))
        assert "staff_call_taken" in (tmp_path / "kiosk" / "audit.jsonl").read_text()
    finally:
        terminal.stop()
        bo.stop()


def test_a_call_made_offline_arrives_when_the_back_office_is_back(tmp_path: Path) -> None:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    clock = FakeClock(wall_start=time.time())
    port = bo.port
    terminal = make_terminal(tmp_path / "kiosk", bo, clock, call_check_s=0.05)
    bo.stop()  # the network is down
    terminal.start()
    try:
        s = terminal.session
        s.d.staffed = None
        s.touch()
        s.call_staff()
        for _ in range(5):  # asking after it, unanswered: still "please wait here"
            clock.advance(1)
            s.tick()
        assert s.view().staff_when == "staffed"
        bo = start_in_thread("127.0.0.1", port, tmp_path / "bo")
        wait_until(lambda: bo.store.calls.call(call_key(s)) is not None, 30,
                   "the call delivered once the back office is back")
        assert bo.store.calls.call(call_key(s))["screen"] == "home"  # type: ignore[index]
    finally:
        terminal.stop()
        bo.stop()


def test_out_of_hours_the_back_office_is_not_asked_and_the_hotline_is_given(
        tmp_path: Path) -> None:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    clock = FakeClock(wall_start=time.time())
    terminal = make_terminal(tmp_path / "kiosk", bo, clock, call_check_s=0.05)
    asked: list[str] = []
    terminal.session.d.calls = type("Desk", (), {
        "call_status": lambda self, key: asked.append(key) or "taken"})()
    terminal.start()
    try:
        s = terminal.session
        s.d.staffed = (0, 0)  # nobody on duty at any minute
        s.touch()
        s.call_staff()
        for _ in range(3):
            clock.advance(1)
            s.tick()
        assert asked == [] and s.view().staff_when == "after_hours"
        assert "12345" in words(s.view())
    finally:
        terminal.stop()
        bo.stop()
