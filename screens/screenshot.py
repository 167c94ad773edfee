"""`kiosk screenshot`: draw one screen offscreen, from a real session driven to its state."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, cast

from kiosk.config.profile import Profile
from screens import env
from screens.intents import Intents


class NoIntents:
    """Nothing is tapped in a screenshot: every intent is a no-op."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


def no_intents() -> Intents:
    return cast(Intents, NoIntents())


def _type_code(shell: Any) -> None:
    """The citizen taps "use a pickup code" and types four digits."""
    identify = shell.manager.get_screen("identify")
    identify._toggle_code()
    for digit in "6042":
        identify._key(digit)


# What a finger does on the screen after the session reached the scene (UI-side state).
UI_STEPS: dict[str, Any] = {"collect-code": _type_code}


def render_scene(profile: Profile, *, screen: str, lang: str, elder: bool = False,
                 high_contrast: bool = False) -> Any:
    """Build the shell for a scene and put it on the window; returns the shell."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.demo.scenes import build_scene
    from screens.fonts import register_default_font
    from screens.shell import Shell
    from screens.theme import Theme

    register_default_font()
    rig = build_scene(screen, profile, lang=lang, elder=elder, high_contrast=high_contrast)
    EventLoop.ensure_window()
    theme = Theme(profile.branding)
    shell = Shell(profile, theme, no_intents())
    for child in list(Window.children):
        Window.remove_widget(child)
    Window.add_widget(shell)
    shell.show(rig.session.view())
    if screen in UI_STEPS:
        UI_STEPS[screen](shell)
    Window.clearcolor = theme.background
    for _ in range(8):  # scroll views place their content a frame or two after layout
        EventLoop.idle()
    return shell


def save_window_png(out: Path) -> Path:
    from kivy.core.window import Window

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Kivy numbers the file it writes (shot0001.png): write in a scratch dir, then move.
        written = Window.screenshot(name=str(Path(tmp) / "shot.png"))
        shutil.move(written, out)
    return out


def screenshot(profile: Profile, *, screen: str, lang: str, out: Path, elder: bool = False,
               high_contrast: bool = False, landscape: bool = False) -> Path:
    env.prepare(env.LANDSCAPE if landscape else env.PORTRAIT, offscreen=True)
    from kiosk.demo.scenes import SCENES

    if screen not in SCENES:
        raise ValueError(f"unknown screen {screen!r}; choose one of: {', '.join(SCENES)}")
    render_scene(profile, screen=screen, lang=lang, elder=elder, high_contrast=high_contrast)
    return save_window_png(out)
