"""The passport details, typed on the identify screen offscreen: the three fields and the
button reach the session, and what cannot be right is marked on screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
from tests.test_ui_flow import pump, tap_button, widgets, window  # noqa: F401 (fixture)

pytestmark = pytest.mark.ui


@pytest.fixture
def passport_screen(window: Any) -> Iterator[tuple[Any, Any]]:  # noqa: F811
    from kiosk.demo.scenes import build_scene
    from screens.bridge import SessionBridge
    from screens.shell import Shell
    from screens.theme import Theme

    profile = with_simulated_devices(without_maintenance(load_profile("gov-hall")))
    rig = build_scene("identify-passport", profile, lang="en")
    holder: dict[str, Any] = {}
    bridge = SessionBridge(rig.session, lambda v: holder["shell"].show(v), threaded=False)
    shell = Shell(profile, Theme(profile.branding), bridge)
    holder["shell"] = shell
    window.add_widget(shell)
    shell.show(rig.session.view())
    pump(lambda: shell.manager.current == "identify" and len(fields(shell)) == 3
         and all(f.width > 500 and f.y > 0 for f in fields(shell)))  # laid out
    try:
        yield shell, rig
    finally:
        window.remove_widget(shell)
        rig.session.close()


def fields(shell: Any) -> list[Any]:
    from kivy.uix.textinput import TextInput

    found = [w for w in widgets(shell.manager.current_screen) if isinstance(w, TextInput)]
    return sorted(found, key=lambda w: -w.to_window(*w.pos)[1])  # top to bottom


def type_details(shell: Any, *values: str) -> None:
    for field, value in zip(fields(shell), values, strict=True):
        field.text = value
    tap_button(shell, "Read my passport")


def test_the_typed_details_reach_the_session(passport_screen: tuple[Any, Any]) -> None:
    shell, rig = passport_screen
    assert len(fields(shell)) == 3
    type_details(shell, "L898902C", "1969-08-06", "2034-06-23")
    pump(lambda: rig.session.notice is not None
         and rig.session.notice.key == "reading_passport")
    pump(lambda: not shell.screens["identify"].asking_passport)  # hidden while reading


def test_a_date_that_cannot_be_right_is_marked_on_screen(passport_screen: tuple[Any, Any]
                                                          ) -> None:
    from kivy.uix.label import Label

    shell, rig = passport_screen
    type_details(shell, "L898902C", "69-08", "2034-06-23")
    pump(lambda: rig.session.errors == {"birth_date": "invalid"})
    pump(lambda: any(isinstance(w, Label) and w.text.startswith("Check the date of birth")
                     for w in widgets(shell.manager.current_screen)))
    assert next(f.text for f in fields(shell)) == "L898902C"  # what was typed stays
