"""Every scene, in every variant the terminal offers (both profiles, portrait and landscape,
normal and elder mode, normal and high contrast, Chinese and English), lays out so that
nothing is hidden: no text clipped, cut off by a bar or off the panel, no texts on top of
each other, words at least 4.5:1 (7:1 in high contrast) on their background, every target's
edge at least 3:1, every target at least UI.md's size and 16 dp from the next; what does not
fit scrolls and says so. The audit itself is checked on screens built to fail it."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.config.profile import load_profile, with_simulated_devices
from screens import env

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def window() -> Any:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from screens.fonts import register_default_font

    register_default_font()
    EventLoop.ensure_window()
    before = Window.size
    yield Window
    Window.size = before


def sized(window: Any, size: tuple[int, int]) -> None:
    from kivy.base import EventLoop

    window.size = size
    for _ in range(2):
        EventLoop.idle()


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("profile", ["gov-hall", "bank-branch"])
def test_every_scene_in_every_variant_hides_nothing(window: Any, profile: str,
                                                    orientation: str) -> None:
    from screens.contact import ORIENTATIONS, walk
    from screens.layout_audit import audit

    sized(window, ORIENTATIONS[orientation])
    found: list[str] = []
    drawn = 0

    def each(variant: Any, scene: str, shell: Any) -> None:
        nonlocal drawn
        drawn += 1
        found.extend(f"{variant.name}/{scene}: {p}" for p in audit(shell, window.size))

    walk(orientation, profiles=[profile], each=each)
    assert drawn >= 8 * 30
    assert found == [], f"{len(found)} problems, the first:\n" + "\n".join(found[:40])


def kinds_found(window: Any, spoil: Any, scene: str = "home", **variant: Any) -> set[str]:
    """The audit's findings on a real scene after `spoil(shell)` broke something in it."""
    from kivy.base import EventLoop

    from screens.layout_audit import audit
    from screens.screenshot import render_scene

    sized(window, env.PORTRAIT)
    profile = with_simulated_devices(load_profile("gov-hall"))
    shell = render_scene(profile, screen=scene, lang="zh", **variant)
    spoil(shell)
    for _ in range(3):
        EventLoop.idle()
    return {p.kind for p in audit(shell, window.size)}


def test_the_audit_finds_faint_words_small_targets_and_crowding(window: Any) -> None:
    from kivy.uix.label import Label

    from screens.widgets import BigButton

    def faint(shell: Any) -> None:
        th = shell.theme
        shell.manager.current_screen.ids.body.add_widget(
            Label(text="淡淡的字", color=[0.8, 0.85, 0.9, 1], font_size=th.font_body,
                  size_hint_y=None, height=80), 0)

    def small(shell: Any) -> None:
        row = shell.manager.current_screen.ids.body
        button = BigButton(theme=shell.theme, title="小", size_hint_x=None, width=60)
        row.add_widget(button)

    assert kinds_found(window, lambda s: None) == set()
    assert "contrast" in kinds_found(window, faint)
    assert "small_target" in kinds_found(window, small)


def test_the_audit_finds_what_runs_under_a_bar_and_an_invisible_edge(window: Any) -> None:
    from kivy.uix.boxlayout import BoxLayout

    from screens.widgets import BigButton, Text

    def under(shell: Any) -> None:
        # The old screens: a plain column (no scrolling) too tall for the space.
        screen = shell.manager.current_screen
        column = BoxLayout(orientation="vertical", pos=screen.pos, size=screen.size)
        for i in range(12):
            column.add_widget(Text(theme=shell.theme, text=f"第 {i} 行"))
            column.add_widget(BigButton(theme=shell.theme, title=f"按钮 {i}"))
        screen.clear_widgets()
        screen.add_widget(column)

    def no_edge(shell: Any) -> None:
        button = BigButton(theme=shell.theme, kind="secondary", title="看不见的边")
        shell.manager.current_screen.ids.body.add_widget(button, 0)
        button.edge = [0, 0, 0, 0]  # the old secondary button in high contrast
        button.bg = list(shell.theme.background)

    assert {"under_bar", "overlap"} & kinds_found(window, under)
    assert "edge" in kinds_found(window, no_edge)


def test_the_audit_finds_content_that_overflows_with_no_hint(window: Any) -> None:
    def no_hint(shell: Any) -> None:
        scroller = shell.manager.current_screen.ids.body
        scroller.remove_widget(scroller.hint)  # the old form: "Next" below the fold, unsaid

    kinds = kinds_found(window, no_hint, scene="form", elder=True)
    assert "scroll_hint" in kinds


def test_screenshot_all_draws_every_variant_with_sheets_and_the_audit(tmp_path: Any) -> None:
    """`kiosk screenshot --all`, cut down to one profile, two scenes and one orientation: each
    variant's PNGs, a contact sheet each, and what the audit found (nothing)."""
    from screens.contact import contact_sheet

    made = contact_sheet(tmp_path, profiles=["bank-branch"], scenes=["home", "rate"],
                         orientations=["landscape"])
    assert made["problems"] == {}
    assert len(made["sheets"]) == 8  # elder x contrast x language
    shots = sorted(tmp_path.glob("bank-branch-landscape-*/*.png"))
    assert len(shots) == 16
    from PIL import Image

    with Image.open(shots[0]) as im:
        assert im.size == (1920, 1080)
