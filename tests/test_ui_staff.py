"""Staff on the touch UI, offscreen, against a whole terminal: the hidden entry on the top
bar opens the staff sign-in (on the attract screen, or after a call for help; never over a
citizen's data otherwise); a PIN signs in to the console, a wrong one says how many tries are
left; signing out goes back to the session's screen; random taps on the citizen's screens
never reach the console."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from screens.staff.gesture import LONG_PRESS_S
from tests.test_ui_flow import all_text, on_attract, pump, tap_button, window  # noqa: F401

pytestmark = [pytest.mark.ui, pytest.mark.realstack]
PIN = "482915"


class Now:
    """The gesture's clock, moved by the test (a 3 s press without waiting 3 s)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def staff_ui(window: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Now]]:  # noqa: F811
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.config.settings import Timings
    from kiosk.terminal import Terminal, TerminalOptions
    from tests.enrol import enrol

    hall = without_maintenance(load_profile("gov-hall"))
    hall = hall.model_copy(update={"hours": hall.hours.model_copy(
        update={"staffed": "00:00-23:59"})})
    profile = with_simulated_devices(hall, instant=True)
    terminal = Terminal(profile, TerminalOptions(
        data_dir=tmp_path / "kiosk", backoffice_url="http://127.0.0.1:9",
        timings=Timings(goodbye_s=0.3, ui_tick_s=0.02, outbox_poll_s=0.05),
        **enrol(tmp_path / "kiosk")))
    terminal.staff_pins.set_pin("T-07", "technician", PIN)
    with staff_shell(window, terminal) as (shell, now):
        yield shell, terminal, now


@contextmanager
def staff_shell(on: Any, terminal: Any) -> Iterator[tuple[Any, Now]]:
    """The terminal started, its shell (with the staff screens) on the window at attract,
    the hidden entry's clock the test's; everything stopped afterwards."""
    from screens.bridge import SessionBridge
    from screens.shell import Shell
    from screens.theme import Theme

    terminal.start()
    holder: dict[str, Any] = {}
    bridge = SessionBridge(terminal.session, lambda v: holder["shell"].show(v))
    profile = terminal.profile
    shell = Shell(profile, Theme(profile.branding), bridge, staff=terminal)
    now = Now()
    shell.staff.now = now
    holder["shell"] = shell
    on.add_widget(shell)
    bridge.start(terminal.timings.ui_tick_s)
    try:
        pump(lambda: on_attract(shell))
        yield shell, now
    finally:
        shell.staff.close()  # its console's refresh timer must not outlive the terminal
        bridge.stop()
        on.remove_widget(shell)
        terminal.stop()


def press(shell: Any, now: Now, where: str, held_s: float) -> None:
    """A touch on the info row's corner (`where`: left or right) held `held_s`."""
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    info = shell.info
    x = info.x + 10 if where == "left" else info.right - 10
    touch = UnitTestTouch(x, info.center_y)
    touch.touch_down()
    now.t += held_s
    touch.touch_up()
    now.t += 0.3
    EventLoop.idle()


def hidden_entry(shell: Any, now: Now) -> None:
    press(shell, now, "left", LONG_PRESS_S + 0.2)
    for corner in ("right", "left", "right"):
        press(shell, now, corner, 0.1)


def sign_in(shell: Any, pin: str, number: str = "T-07") -> None:
    screen = shell.screens["staff_sign_in"]
    screen.number.text = number
    screen.pin.text = pin
    tap_button(shell, "登录")


def laid_out_well(shell: Any) -> bool:
    """The layout audit (screens/layout_audit.py) finds nothing on the staff screen drawn."""
    from kivy.base import EventLoop

    from screens.layout_audit import audit

    for _ in range(8):  # laid out
        EventLoop.idle()
    problems = audit(shell, (shell.width, shell.height))
    assert not problems, [str(p) for p in problems]
    return True


def audit_events(terminal: Any) -> list[str]:
    path = terminal.options.data_dir / "audit.jsonl"
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


def test_the_hidden_entry_signs_in_to_the_console_and_out_again(staff_ui: Any) -> None:
    shell, terminal, now = staff_ui
    hidden_entry(shell, now)
    pump(lambda: shell.manager.current == "staff_sign_in")
    sign_in(shell, "000000")
    pump(lambda: "还可以再试 4 次" in all_text(shell))
    assert shell.manager.current == "staff_sign_in"
    assert laid_out_well(shell)
    assert shell.screens["staff_sign_in"].pin.text == ""  # never kept on screen
    sign_in(shell, PIN)
    pump(lambda: shell.manager.current == "staff_console")
    text = all_text(shell)
    assert "工作人员 T-07（运维工程师）" in text and "设备" in text and "立即同步" in text
    assert PIN not in text
    assert laid_out_well(shell)
    tap_button(shell, "立即同步")
    tap_button(shell, "退出程序（维护）")  # no app is running here: only audited
    tap_button(shell, "退出登录")
    pump(lambda: shell.manager.current == "attract")
    assert "T-07" not in all_text(shell)  # the staff screens wiped
    events = audit_events(terminal)
    assert events.count("staff_sign_in_failed") == 1
    assert "staff_signed_in" in events and "staff_action" in events
    assert "staff_signed_out" in events
    path = terminal.options.data_dir / "audit.jsonl"
    whats = [json.loads(line).get("what") for line in path.read_text().splitlines()]
    assert "force_sync" in whats and "quit_app" in whats


def test_the_entry_stays_shut_over_a_citizen_until_they_call_for_help(staff_ui: Any) -> None:
    shell, terminal, now = staff_ui
    terminal.session.touch()
    pump(lambda: shell.manager.current == "home")
    from kivy.base import EventLoop

    hidden_entry(shell, now)
    for _ in range(5):
        EventLoop.idle()
    assert shell.manager.current == "home"  # a citizen's screen: the entry stays shut
    tap_button(shell, "呼叫工作人员")
    pump(lambda: shell.view is not None and shell.view.staff_called)
    hidden_entry(shell, now)
    pump(lambda: shell.manager.current == "staff_sign_in")
    tap_button(shell, "取消")
    pump(lambda: shell.manager.current == "home")


def test_random_taps_on_the_citizen_screens_never_reach_the_console(staff_ui: Any) -> None:
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    shell, _terminal, now = staff_ui
    rng = random.Random(20261202)
    width, height = shell.width, shell.height
    seen: set[str] = set()
    for _ in range(400):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        if rng.random() < 0.3:  # a good share of them on the top bar's info row
            x = rng.uniform(shell.info.x, shell.info.right)
            y = shell.info.center_y
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        now.t += rng.choice((0.05, 0.2, 0.5, 1.0, 3.5))  # now and then a long press
        touch.touch_up()
        now.t += rng.uniform(0.05, 2.0)
        EventLoop.idle()
        seen.add(shell.manager.current)
        assert shell.manager.current != "staff_console"
    assert len(seen) > 3  # the taps went places


@pytest.mark.parametrize("mode", ["elder", "high_contrast", "landscape"])
def test_the_hidden_entry_works_in_every_mode(staff_ui: Any, window: Any,  # noqa: F811
                                              mode: str) -> None:
    from kivy.base import EventLoop

    from screens.env import LANDSCAPE, PORTRAIT

    shell, terminal, now = staff_ui
    s = terminal.session
    s.touch()  # a citizen in that mode has called for help
    if mode == "elder":
        s.set_elder(True)
    elif mode == "high_contrast":
        s.set_high_contrast(True)
    else:
        window.size = LANDSCAPE
    s.call_staff()
    try:
        for _ in range(10):
            EventLoop.idle()
        hidden_entry(shell, now)
        pump(lambda: shell.manager.current == "staff_sign_in")
        assert laid_out_well(shell)
        shell.keyboard.detach()  # staff tap the keyboard's Done, then Cancel in view
        screen = shell.screens["staff_sign_in"]
        cancel = next(w for w in screen.ids.body.column.children
                      if getattr(w, "title", "") == "取消")
        screen.ids.body.show(cancel)
        for _ in range(10):
            EventLoop.idle()
        tap_button(shell, "取消")
        pump(lambda: shell.manager.current == "home")
    finally:
        window.size = PORTRAIT


def test_a_technician_runs_the_self_test_from_the_console(staff_ui: Any) -> None:
    shell, terminal, now = staff_ui
    hidden_entry(shell, now)
    pump(lambda: shell.manager.current == "staff_sign_in")
    sign_in(shell, PIN)
    pump(lambda: shell.manager.current == "staff_console")
    tap_button(shell, "运行自检")
    pump(lambda: "项通过" in all_text(shell), limit_s=60)
    text = all_text(shell)
    # Its back office does not answer here: the report says so, and what to do.
    assert "未就绪" in text and "失败  backoffice" in text and "→" in text
    assert "通过  printer" in text  # the simulated printer printed its test receipt
    assert laid_out_well(shell)
    report = json.loads((terminal.options.data_dir / "readiness.json").read_text())
    assert report["ok"] is False and "backoffice" in [i["name"] for i in report["items"]
                                                       if not i["ok"]]
    assert "selftest_run" in audit_events(terminal)
