"""The citizen's on-screen keyboard, offscreen, tapped like a finger does: a shop name typed
in pinyin lands in a real TextInput; keys are touch targets of UI.md's sizes and contrast
at both panel widths, in elder mode and high contrast; Kivy's own keyboard stays away."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config.contrast import contrast_ratio
from kiosk.config.profile import load_profile

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def window() -> Iterator[Any]:
    from kivy.base import EventLoop
    from kivy.config import Config
    from kivy.core.window import Window

    from screens import keyboard
    from screens.fonts import register_default_font

    register_default_font()
    EventLoop.ensure_window()
    flags = ("use_syskeyboard", "allow_vkeyboard", "single_vkeyboard", "docked_vkeyboard")
    before = {name: getattr(Window, name) for name in flags}
    mode = Config.get("kivy", "keyboard_mode")
    keyboard.install()  # as screens/app.py does
    yield Window
    # Other test modules in the same process get the window as screens.env made it.
    for name, value in before.items():
        setattr(Window, name, value)
    Config.set("kivy", "keyboard_mode", mode)
    for child in list(Window.children):
        Window.remove_widget(child)


def theme_for(profile: str = "gov-hall", *, elder: bool = False,
              high_contrast: bool = False) -> Any:
    from screens.theme import Theme

    theme = Theme(load_profile(profile).branding)
    theme.apply(elder=elder, high_contrast=high_contrast)
    return theme


def idle(frames: int = 3) -> None:
    from kivy.base import EventLoop

    for _ in range(frames):
        EventLoop.idle()


def widgets(root: Any) -> Iterator[Any]:
    yield root
    for child in root.children:
        yield from widgets(child)


def keys(kb: Any) -> list[Any]:
    from screens.keyboard import Key

    return [w for w in widgets(kb) if isinstance(w, Key)]


def titles(kb: Any) -> list[str]:
    """The keys' words as read: rows from the top, each from the left."""
    return [k.title for k in sorted(keys(kb), key=lambda k: (-round(k.y), k.x))]


def shown(kb: Any) -> list[str]:
    """The candidates on their keys, left to right."""
    return [k.title for k in reversed(kb._candidates.children)]


def put_on_window(window: Any, theme: Any, *, width: float = 1080, lang: str = "zh",
                  mode: str = "pinyin") -> tuple[Any, Any]:
    """A text field at the top, the keyboard docked at the bottom, as the shell will."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.widget import Widget

    from screens.keyboard import KioskKeyboard
    from screens.widgets import text_field

    for child in list(window.children):
        window.remove_widget(child)
    window.clearcolor = theme.background
    root = BoxLayout(orientation="vertical", size_hint=(None, None),
                     size=(width, window.height))
    field = text_field(theme, "")
    kb = KioskKeyboard(theme, lang=lang)
    root.add_widget(field)
    root.add_widget(Widget())
    root.add_widget(kb)
    window.add_widget(root)
    kb.attach(field, mode)
    idle()
    return kb, field


def tap(kb: Any, title: str) -> None:
    """A finger on the key, at its place on the window."""
    from kivy.tests.common import UnitTestTouch

    idle()  # the keyboard lays out (and rebuilds after a mode switch) in the next frame
    for key in keys(kb):
        if key.title == title and not key.disabled:
            x, y = key.to_window(*key.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            touch.touch_up()
            return
    raise AssertionError(f"no key {title!r} among {titles(kb)}")


def type_letters(kb: Any, letters: str) -> None:
    for letter in letters:
        tap(kb, letter)


def words(key: str, lang: str = "zh") -> str:
    from screens.i18n import t

    return t(lang, f"keyboard.{key}")


def status(kb: Any) -> str:
    return str(kb._status.text)


def test_shop_name_typed_in_pinyin_lands_in_the_field(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    seen: list[str] = []
    field.bind(text=lambda _w, value: seen.append(value))  # as the form screen listens
    type_letters(kb, "chenguang")
    assert field.text == "" and status(kb) == "chen guang"
    tap(kb, "晨光")
    assert field.text == "晨光" and not kb.composer.composing
    type_letters(kb, "kafei")
    assert status(kb) == "ka fei"
    tap(kb, "咖啡")
    assert field.text == "晨光咖啡"
    assert seen == ["晨光", "晨光咖啡"]  # the field's own binding fired, once per choice
    assert field.focus, "tapping the keyboard must not take the focus from the field"


def test_choosing_part_of_the_letters_leaves_the_rest_composing(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    type_letters(kb, "chenguangkafei")
    tap(kb, "晨光")
    assert field.text == "晨光" and kb.composer.letters == "kafei"
    assert status(kb) == "ka fei" and "咖啡" in titles(kb)


def test_kivy_does_not_dock_its_own_keyboard_over_the_bottom_bar(window: Any) -> None:
    """A plain TextInput (Kivy's own keyboard_mode, "auto") attached and focused."""
    from kivy.uix.textinput import TextInput
    from kivy.uix.vkeyboard import VKeyboard

    kb, _ = put_on_window(window, theme_for())
    field = TextInput(size_hint_y=None, height=120)
    window.children[0].add_widget(field, index=2)
    kb.attach(field)
    idle()
    assert field.focus and field.keyboard_mode == "auto"
    assert not [w for w in window.children if isinstance(w, VKeyboard)]
    type_letters(kb, "kafei")
    tap(kb, "咖啡")
    assert field.text == "咖啡" and field.focus


def test_the_vkeyboard_check_can_see_kivys_keyboard(window: Any) -> None:
    """screens.env's dock mode, without install(): a focused field brings Kivy's keyboard."""
    from kivy.uix.textinput import TextInput
    from kivy.uix.vkeyboard import VKeyboard

    field = TextInput()
    window.add_widget(field)
    window.allow_vkeyboard, window.use_syskeyboard = True, False
    try:
        field.focus = True
        idle()
        assert [w for w in window.children if isinstance(w, VKeyboard)]
    finally:
        field.focus = False
        window.release_all_keyboards()
        window.allow_vkeyboard, window.use_syskeyboard = False, True
        window.remove_widget(field)


def test_backspace_deletes_a_composing_letter_first_then_a_character(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    field.text = "晨光"
    type_letters(kb, "ka")
    tap(kb, words("backspace"))
    assert kb.composer.letters == "k" and field.text == "晨光"
    tap(kb, words("backspace"))
    assert not kb.composer.composing and field.text == "晨光"
    assert status(kb) == words("hint_pinyin")
    tap(kb, words("backspace"))
    assert field.text == "晨"


def test_space_puts_in_the_first_candidate_or_a_space(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    type_letters(kb, "kafei")
    assert shown(kb)[0] == "咖啡"
    tap(kb, words("space"))
    assert field.text == "咖啡" and not kb.composer.composing
    tap(kb, words("space"))
    assert field.text == "咖啡 "


def test_done_puts_in_what_is_composing_and_says_so(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    done: list[bool] = []
    kb.bind(on_done=lambda *_: done.append(True))
    type_letters(kb, "chenguangkafei")
    tap(kb, words("done"))
    assert field.text == "晨光咖啡" and done == [True]


def test_pages_of_candidates(window: Any) -> None:
    from screens.keyboard import NEXT, PREVIOUS

    kb, _ = put_on_window(window, theme_for())
    type_letters(kb, "s")
    first = shown(kb)
    assert first and next(k for k in keys(kb) if k.title == PREVIOUS).disabled
    tap(kb, NEXT)
    second = shown(kb)
    assert second and not set(first) & set(second)
    tap(kb, PREVIOUS)
    assert shown(kb) == first


def test_latin_letters_go_straight_in(window: Any) -> None:
    from screens.keyboard import CAPS

    kb, field = put_on_window(window, theme_for(), mode="latin")
    type_letters(kb, "ab")
    assert field.text == "ab" and not kb.composer.composing
    tap(kb, CAPS)
    tap(kb, "C")
    assert field.text == "abC"
    tap(kb, words("to_pinyin"))
    type_letters(kb, "ka")
    assert field.text == "abC" and kb.composer.letters == "ka"


def test_switching_to_latin_puts_the_pinyin_letters_in_as_typed(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    type_letters(kb, "coffee")
    tap(kb, words("to_latin"))
    assert field.text == "coffee" and kb.mode == "latin"


def test_digits_for_a_phone_number(window: Any) -> None:
    kb, field = put_on_window(window, theme_for(), mode="digits")
    assert "a" not in titles(kb) and set("0123456789") <= set(titles(kb))
    type_letters(kb, "13800")
    tap(kb, words("backspace"))
    assert field.text == "1380"
    tap(kb, words("to_pinyin"))  # back to the letters
    type_letters(kb, "ka")
    assert kb.composer.letters == "ka"


def test_detach_stops_typing_and_drops_the_composition(window: Any) -> None:
    kb, field = put_on_window(window, theme_for())
    type_letters(kb, "ka")
    kb.detach()
    assert kb.field is None and not field.focus and not kb.composer.composing
    tap(kb, "a")
    assert field.text == "" and not kb.composer.composing


def test_words_of_the_keys_follow_the_language(window: Any) -> None:
    kb, _ = put_on_window(window, theme_for(), lang="en")
    assert {"ABC", "123", "Space", "Delete", "Done"} <= set(titles(kb))
    kb.lang = "zh"
    idle()
    assert {"英文", "空格", "删除", "完成"} <= set(titles(kb))


def test_both_languages_have_the_same_keyboard_words() -> None:
    from screens.i18n import catalogue

    zh = {k for k in catalogue("zh") if k.startswith("keyboard.")}
    assert zh and zh == {k for k in catalogue("en") if k.startswith("keyboard.")}


def assert_touch_targets(kb: Any, theme: Any) -> None:
    from kivy.metrics import dp

    found = keys(kb)
    assert len(found) > 10
    for key in found:
        assert key.height >= theme.target_h - 0.5, (key.title, key.height)
        assert key.width >= dp(96) - 0.5, (key.title, key.width)
        assert kb.x - 0.5 <= key.x and key.right <= kb.right + 0.5, key.title
        if theme.elder:
            assert key.height >= dp(128)
    for a, b in itertools.combinations(found, 2):
        apart = max(b.x - a.right, a.x - b.right, b.y - a.top, a.y - b.top)
        assert apart >= dp(16) - 0.5, (a.title, b.title, apart)


@pytest.mark.parametrize("width", [1080, 1920])
@pytest.mark.parametrize("mode", ["pinyin", "latin", "digits"])
def test_every_key_is_a_touch_target_apart_from_the_next(window: Any, width: int,
                                                         mode: str) -> None:
    theme = theme_for()
    kb, _ = put_on_window(window, theme, width=width, mode=mode)
    if mode == "pinyin":
        type_letters(kb, "zhongguo")  # candidates in their row too
        idle()
    assert_touch_targets(kb, theme)
    theme.apply(elder=True, high_contrast=False)  # the citizen switches elder mode on
    idle()
    assert_touch_targets(kb, theme)


def test_letters_are_qwerty_when_ten_columns_fit_otherwise_alphabetical(window: Any) -> None:
    kb, _ = put_on_window(window, theme_for(), width=1920)
    letters = [t for t in titles(kb) if len(t) == 1 and t.isalpha()]
    assert "".join(letters).startswith("qwertyuiop")
    kb, _ = put_on_window(window, theme_for(), width=1080)
    letters = [t for t in titles(kb) if len(t) == 1 and t.isalpha()]
    assert "".join(letters) == "abcdefghijklmnopqrstuvwxyz"


def hex_of(rgba: Any) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in list(rgba)[:3])


@pytest.mark.parametrize("profile,high_contrast", [("gov-hall", False), ("bank-branch", False),
                                                   ("gov-hall", True)])
def test_keys_and_their_words_stand_out(window: Any, profile: str, high_contrast: bool) -> None:
    theme = theme_for(profile, high_contrast=high_contrast)
    kb, _ = put_on_window(window, theme)
    type_letters(kb, "kafei")  # a primary candidate, a disabled page key
    need = 7.0 if high_contrast else 4.5
    tray = hex_of(kb._tray_colour.rgba)
    kinds = set()
    for key in keys(kb):
        kinds.add(key.kind)
        assert contrast_ratio(hex_of(key.fg), hex_of(key.bg)) >= need, (key.title, key.kind)
        # The key's edge against the keyboard it stands on.
        assert contrast_ratio(hex_of(key._outline_colour.rgba), tray) >= need, key.title
    assert {"primary", "secondary", "disabled"} <= kinds
    assert contrast_ratio(hex_of(kb._status.color), tray) >= need


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("look", ["normal", "elder", "high_contrast"])
def test_keyboard_pictures(window: Any, tmp_path: Path, lang: str, look: str) -> None:
    """Pictures to look at (the engineer who changed the keyboard did, at 1080x1920)."""
    from screens.screenshot import save_window_png

    theme = theme_for(elder=look == "elder", high_contrast=look == "high_contrast")
    kb, _ = put_on_window(window, theme, lang=lang)
    type_letters(kb, "kafeid")
    idle()
    png = save_window_png(tmp_path / f"keyboard-{lang}-{look}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize("width", [560, 640, 720, 800, 880, 960])
def test_alphabetical_rows_of_any_width_are_padded_with_gaps_of_their_own(
        window: Any, width: int) -> None:
    # A last row two or more keys short of the others takes as many gaps: each its own
    # widget (one gap widget added twice made the keyboard fail to build).
    from screens.keyboard import KEY_GAP, columns_for

    theme = theme_for()
    kb, _ = put_on_window(window, theme, width=width, mode="pinyin")
    columns = columns_for(width - 2 * KEY_GAP)
    assert columns < 10  # alphabetical, not QWERTY
    letters = [t for t in titles(kb) if len(t) == 1 and t.isalpha()]
    assert "".join(letters) == "abcdefghijklmnopqrstuvwxyz"


def test_some_width_leaves_a_last_row_two_keys_short() -> None:
    from screens.keyboard import KEY_GAP, columns_for

    shorts = {w: -26 % columns_for(w - 2 * KEY_GAP) for w in (560, 640, 720, 800, 880, 960)}
    assert any(n >= 2 for n in shorts.values()), shorts  # the case above covers
