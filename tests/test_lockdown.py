"""Lockdown: shipped profiles hold the panel, the demo does not; what Kivy is told at start
(in a fresh process: Kivy reads its configuration once) and what the running app refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.config.profile import load_profile, without_lockdown

PROFILES = ("gov-hall", "bank-branch")

PROBE = """
import json, sys
from screens import env
env.prepare(lockdown=sys.argv[1] == "1", touch=sys.argv[2])
from kivy.config import Config
print(json.dumps({
    "input": {k: Config.get("input", k) for k in Config.options("input")},
    "modules": Config.options("modules"),
    **{k: Config.get("graphics", k) for k in ("fullscreen", "borderless", "show_cursor")},
    "exit_on_escape": Config.get("kivy", "exit_on_escape"),
}))
"""


def kivy_config(lockdown: bool, touch: str, tmp_path: Any) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", PROBE, "1" if lockdown else "0", touch],
                         capture_output=True, text=True, timeout=60, check=True,
                         env={"KIVY_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("name", PROFILES)
def test_shipped_profiles_lock_the_panel_and_the_demo_does_not(name: str) -> None:
    profile = load_profile(name)
    assert profile.kiosk.lockdown
    assert not without_lockdown(profile).kiosk.lockdown


def test_under_lockdown_kivy_gets_one_input_provider_no_border_no_cursor_no_modules(
        tmp_path: Any) -> None:
    # A Kivy home whose config.ini already lists a second input driver (as Kivy writes on
    # Linux): a touchscreen seen through both taps twice.
    (tmp_path / "config.ini").write_text(
        "[input]\nmouse = mouse\n%(name)s = probesysfs\n[modules]\ninspector =\n",
        encoding="utf-8")
    locked = kivy_config(True, "mtdev,/dev/input/event3", tmp_path)
    assert locked["input"] == {"touch": "mtdev,/dev/input/event3"}
    assert locked["modules"] == []
    assert (locked["borderless"], locked["show_cursor"], locked["exit_on_escape"]) == \
        ("1", "0", "0")
    assert locked["fullscreen"] == "0"  # offscreen: no panel to fill (on a display: auto)


def test_without_lockdown_there_is_still_one_input_provider(tmp_path: Any) -> None:
    (tmp_path / "config.ini").write_text("[input]\n%(name)s = probesysfs\n", encoding="utf-8")
    free = kivy_config(False, "ignored", tmp_path)
    assert free["input"] == {"mouse": "mouse,disable_multitouch"}
    assert free["borderless"] == "0"


@pytest.fixture
def window() -> Iterator[Any]:
    from screens import env

    env.prepare()
    from kivy.core.window import Window

    yield Window


def test_the_running_app_refuses_to_close_and_swallows_escape_and_f1(window: Any) -> None:
    from kivy.app import App

    from screens.lockdown import Lockdown

    app = App()
    lock = Lockdown(window)
    lock.hold(app)
    try:
        assert window.dispatch("on_request_close", source="keyboard") is True  # Alt+F4
        assert window.dispatch("on_keyboard", 27, 41, None, []) is True  # Escape
        assert window.dispatch("on_keyboard", 282, 58, None, []) is True  # F1
        assert not window.dispatch("on_keyboard", 97, 4, "a", [])  # a letter still types
        assert app.open_settings() is False and app._app_settings is None
        assert lock.refused == 4
    finally:
        lock.release()
    assert not window.dispatch("on_request_close", source="keyboard")  # released: may close
