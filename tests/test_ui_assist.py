"""Staff assisting a citizen, offscreen, against a whole terminal and the reference back
office: the face check cannot decide (no photo on file to compare with), the citizen calls for
help, a member of staff takes the call at the back office, signs in on the terminal with a
PIN, compares the card with the citizen by sight and vouches for them, goes back to the
citizen's screen (which says staff are helping), and the citizen finishes; the audit log holds
each staff action with the staff number and role, and the assistance ends with the session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.test_ui_flow import all_text, pump, tap_button, window  # noqa: F401
from tests.test_ui_staff import PIN, Now, hidden_entry, sign_in, staff_shell

pytestmark = [pytest.mark.ui, pytest.mark.realstack]


@pytest.fixture
def assisted_ui(window: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any, Now]]:  # noqa: F811
    from backoffice.running import start_in_thread
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.config.settings import Timings
    from kiosk.demo.faces import CameraView, with_camera_view
    from kiosk.terminal import Terminal, TerminalOptions
    from tests.enrol import enrol

    backoffice = start_in_thread("127.0.0.1", 0, tmp_path / "backoffice")  # no photos on file
    hall = without_maintenance(load_profile("gov-hall"))
    # Hall staff may assist; here they sign in with a PIN (the shipped profile has them show
    # a staff badge).
    roles = tuple(r.model_copy(update={"auth": "pin"}) if r.id == "hall_staff" else r
                  for r in hall.staff)
    hall = hall.model_copy(update={"staff": roles, "hours": hall.hours.model_copy(
        update={"staffed": "00:00-23:59"})})
    # The real camera adapter looks at the demo citizen's face; the back office has no photo
    # of them on file to compare it with.
    view = CameraView(tmp_path / "camera-view.png")
    view.show_face()
    profile = with_camera_view(with_simulated_devices(hall, settings={
        "id_reader": {"present_after_s": 0.2}}), view)
    terminal = Terminal(profile, TerminalOptions(
        data_dir=tmp_path / "kiosk", backoffice_url=backoffice.url,
        timings=Timings(goodbye_s=0.3, ui_tick_s=0.02, outbox_poll_s=0.05, call_check_s=0.1),
        **enrol(tmp_path / "kiosk", backoffice)))
    terminal.staff_pins.set_pin("H-01", "hall_staff", PIN)  # hall staff may assist
    try:
        with staff_shell(window, terminal) as (shell, now):
            yield shell, terminal, backoffice, now
    finally:
        backoffice.stop()


def submitted(terminal: Any) -> list[str]:
    """The tracking numbers the terminal's audit log says were queued."""
    path = terminal.options.data_dir / "audit.jsonl"
    return [e["tracking_no"] for e in map(json.loads, path.read_text().splitlines())
            if e["event"] == "application_queued"]


def test_staff_take_the_call_sign_in_vouch_for_the_citizen_who_then_finishes(
        assisted_ui: Any) -> None:
    shell, terminal, backoffice, now = assisted_ui
    staff = terminal.staff
    terminal.session.touch()
    pump(lambda: shell.manager.current == "home")
    tap_button(shell, "我要办")
    pump(lambda: shell.manager.current == "services")
    tap_button(shell, "社保卡补换")
    pump(lambda: shell.manager.current == "consent")
    tap_button(shell, "同意并开始人脸核验")
    pump(lambda: terminal.session.view().face_gave_up, 30)  # nothing to compare the face with
    tap_button(shell, "呼叫工作人员")
    pump(lambda: terminal.session.view().staff_called)
    key = f"staff.call:{terminal.session.call_id}"
    pump(lambda: backoffice.store.calls.call(key) is not None, 30)
    took = requests.post(f"{backoffice.url}/v1/calls/{key}/take", headers=backoffice.headers,
                         json={"staff": "H-01"}, timeout=10)
    assert took.status_code == 200
    pump(lambda: terminal.session.view().staff_when == "taken", 30)
    pump(lambda: "正在赶来" in all_text(shell))  # the screen redrawn with the news

    hidden_entry(shell, now)  # the citizen called for help: the entry opens over their screen
    pump(lambda: shell.manager.current == "staff_sign_in")
    sign_in(shell, PIN, "H-01")
    pump(lambda: shell.manager.current == "staff_console")
    assert terminal.session.view().assisted_by == "H-01"
    pump(lambda: "协助办理" in all_text(shell) and "人脸核验" in all_text(shell))
    tap_button(shell, "已核对证件与本人，确认身份")
    pump(lambda: terminal.session.view().state.value == "fill")
    tap_button(shell, "回到办理界面（继续协助）")
    pump(lambda: shell.manager.current == "form")
    pump(lambda: "工作人员 H-01 正在协助您办理" in all_text(shell))

    tap_button(shell, "遗失")  # the citizen (or staff for them) finishes the form
    tap_button(shell, "下一步")
    pump(lambda: shell.manager.current == "confirm")
    tap_button(shell, "确认提交")
    pump(lambda: shell.manager.current == "result")
    tap_button(shell, "完成")
    pump(lambda: shell.manager.current in ("rate", "goodbye"))
    pump(lambda: staff.current() is None)  # the assistance ended with the session
    pump(lambda: "H-01" not in all_text(shell))
    assert terminal.sync.wait_until_drained(20)
    [app] = [a for a in (backoffice.store.application(n) for n in submitted(terminal)) if a]
    assert (app["service_id"], app["face_check"]) == \
        ("social_security_card_renewal", "staff_verified")

    audit = [json.loads(line) for line in
             (terminal.options.data_dir / "audit.jsonl").read_text().splitlines()]
    staff_events = [(e["event"], e.get("staff_id"), e.get("role")) for e in audit
                    if e["event"].startswith(("staff_", "identity_vouched"))
                    and e["event"] not in ("staff_called", "staff_call_taken")]
    assert staff_events == [
        ("staff_signed_in", "H-01", "hall_staff"),
        ("staff_assisting", "H-01", "hall_staff"),
        ("staff_action", "H-01", "hall_staff"),
        ("identity_vouched_by_staff", "H-01", "hall_staff"),
        ("staff_signed_out", "H-01", "hall_staff"),
    ]
    assert all(e["terminal_id"] == terminal.profile.terminal.id for e in audit
               if e["event"] in ("staff_signed_in", "staff_action", "staff_signed_out"))
