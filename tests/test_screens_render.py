"""Every screen renders offscreen in both languages from a real session; Chinese is drawn
with real glyphs; the words exist in both languages for everything the core can say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devices.id_reader.protocol import ReadFailure
from kiosk.config.profile import load_profile, with_simulated_devices
from kiosk.demo.scenes import SCENES
from screens.i18n import catalogue

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def window() -> Any:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from screens.fonts import register_default_font

    register_default_font()
    EventLoop.ensure_window()
    return Window


def texts(widget: Any) -> list[str]:
    from kivy.uix.label import Label

    found = [widget.text] if isinstance(widget, Label) and widget.text else []
    for child in widget.children:
        found += texts(child)
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("scene", sorted(SCENES))
def test_every_screen_renders_in_both_languages(window: Any, scene: str, lang: str,
                                                tmp_path: Path) -> None:
    from screens.screenshot import render_scene, save_window_png

    profile = with_simulated_devices(load_profile("gov-hall"))
    shell = render_scene(profile, screen=scene, lang=lang)
    words = texts(shell.manager.current_screen) + texts(shell.bottom)
    assert words, "nothing drawn"
    if lang == "en":
        # The citizen's own (masked) name is data, not UI words.
        ui_words = [w for w in words if "*" not in w]
        assert not [w for w in ui_words if CJK.search(w)], "Chinese left on an English screen"
    else:
        assert any(CJK.search(w) for w in words)
    png = save_window_png(tmp_path / f"{scene}-{lang}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_chinese_glyphs_are_drawn_not_boxes(window: Any) -> None:
    """Without a CJK font every character is the same 'missing glyph' box."""
    from kivy.core.text import Label as CoreLabel

    def pixels(text: str) -> bytes:
        label = CoreLabel(text=text, font_size=48)
        label.refresh()
        return bytes(label.texture.pixels)

    assert pixels("办") != pixels("查")


@pytest.mark.parametrize("variant", [["--elder"], ["--high-contrast"], ["--landscape"]])
def test_screenshot_command_writes_a_png(tmp_path: Path, variant: list[str]) -> None:
    out = tmp_path / "home.png"
    cmd = [sys.executable, "-m", "kiosk.cli", "screenshot", "--screen", "services",
           "--lang", "zh", "--out", str(out), *variant]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_screenshot_of_unknown_screen_fails_in_one_line(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "kiosk.cli", "screenshot", "--screen", "nope", "--out",
           str(tmp_path / "x.png")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert "unknown screen 'nope'" in done.stderr.strip().splitlines()[-1]


def test_both_languages_have_the_same_words() -> None:
    assert set(catalogue("zh")) == set(catalogue("en"))


def test_every_notice_the_core_can_raise_has_words() -> None:
    source = "\n".join(p.read_text(encoding="utf-8")
                        for p in (ROOT / "kiosk/session").glob("*.py"))
    keys = set(re.findall(r'Notice\("([a-z_]+)"', source))
    keys |= {f"id_{f.value}" for f in ReadFailure if f is not ReadFailure.NO_CARD}
    keys |= {f"goodbye_{r}" for r in re.findall(r'\bend\("([a-z_]+)"\)', source)}
    keys |= {f"face_{r}" for r in re.findall(r'_give_up_on_face\(s, "([a-z_]+)"\)', source)}
    assert "goodbye_door_left_open" in keys and "face_not_matched" in keys
    assert len(keys) > 15
    missing = sorted(k for k in keys if f"notice.{k}" not in catalogue("zh"))
    assert missing == []


class RecordingIntents:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args))


def test_form_values_written_back_from_a_view_do_not_echo_as_typing(window: Any) -> None:
    """Two views in flight used to bounce a text field between them for ever, and every
    bounce counted as activity, so the session never timed out."""
    from dataclasses import replace

    from screens.form import FormScreen
    from screens.theme import Theme

    profile = with_simulated_devices(load_profile("gov-hall"))
    from kiosk.demo.scenes import build_scene

    view = build_scene("form", profile).session.view()
    intents = RecordingIntents()
    form = FormScreen(name="form", theme=Theme(profile.branding), intents=intents,
                      profile=profile)
    form.show(view)
    intents.calls.clear()
    for value in ("晨", "晨光", "晨"):  # stale views arriving after focus left the field
        form.show(replace(view, values={**view.values, "shop_name": value}))
    assert intents.calls == []
    box = form._inputs["shop_name"]
    box.focus = True
    box.insert_text("咖")  # a real keystroke is still sent
    assert intents.calls and intents.calls[-1][0] == "set_field"


def test_form_wipe_lets_go_of_the_keyboard_and_the_typed_text(window: Any) -> None:
    from kiosk.demo.scenes import build_scene
    from screens.form import FormScreen
    from screens.theme import Theme

    profile = with_simulated_devices(load_profile("gov-hall"))
    view = build_scene("form", profile).session.view()
    form = FormScreen(name="form", theme=Theme(profile.branding), intents=RecordingIntents(),
                      profile=profile)
    form.show(view)
    box = form._inputs["shop_address"]
    box.focus = True
    box.insert_text("13800138000")
    form.wipe()
    assert not box.focus and box.text == "" and form._inputs == {}


def test_a_field_left_empty_is_marked_where_the_notice_says(window: Any) -> None:
    """The notice used to say "look at what is marked red" and nothing was red: now the field
    carries ▲ and words on the warning colour, and the notice names that mark."""
    from screens.screenshot import render_scene

    profile = with_simulated_devices(load_profile("gov-hall"))
    shell = render_scene(profile, screen="form-incomplete", lang="zh")
    marked = [w for w in texts(shell.manager.current_screen) if w.startswith("▲ ")]
    assert marked and "▲" in shell.notice.text.text and "红" not in shell.notice.text.text


def test_widgets_of_a_finished_session_leave_no_binding_on_the_theme(window: Any) -> None:
    """Every Text and BigButton used to bind the theme itself and never unbind: hundreds of
    dead bindings a session, and taps slower as the day went on."""
    import gc

    from kiosk.config.profile import load_profile
    from screens.theme import Theme
    from screens.widgets import BigButton, Text

    theme = Theme(load_profile("gov-hall").branding)
    observers = len(theme.get_property_observers("elder"))
    for _ in range(5):  # five sessions' worth of screens, built and dropped
        made = [Text(theme=theme, text="字") for _ in range(40)]
        made += [BigButton(theme=theme, title="按钮") for _ in range(40)]
        del made
        gc.collect()
    assert len(theme.get_property_observers("elder")) == observers
    assert len(theme._watchers) == 0
    kept = Text(theme=theme, text="留下")
    theme.apply(elder=True, high_contrast=False)  # a widget still shown restyles
    assert kept.font_size == theme.font_body
