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


def _type_pinyin(shell: Any) -> None:
    """The citizen touches the form's last text field (the shop's address) and types "shiji"
    on the pinyin keyboard (where this profile has a form to type in)."""
    if shell.manager.current != "form" or not shell.screens["form"]._inputs:
        return
    form = shell.screens["form"]
    field = list(form._inputs.values())[-1]
    field.text = ""
    form.type_into(field, "pinyin")
    for letter in "shiji":
        shell.keyboard._letter(letter)


# What a finger does on the screen after the session reached the scene (UI-side state).
UI_STEPS: dict[str, Any] = {"collect-code": _type_code, "form-typing": _type_pinyin}


def render_scene(profile: Profile, *, screen: str, lang: str, elder: bool = False,
                 high_contrast: bool = False, shell: Any = None, frames: int = 8) -> Any:
    """Draw a scene on the window; returns the shell. A shell from an earlier call may be
    given to draw on again (every screen wiped first, as at the end of a session)."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.demo.scenes import build_scene
    from screens.fonts import register_default_font
    from screens.shell import Shell
    from screens.theme import Theme

    register_default_font()
    rig = build_scene(screen, profile, lang=lang, elder=elder, high_contrast=high_contrast)
    EventLoop.ensure_window()
    if shell is None:
        shell = Shell(profile, Theme(profile.branding), no_intents())
        for child in list(Window.children):
            Window.remove_widget(child)
        Window.add_widget(shell)
    else:
        for drawn in shell.screens.values():
            drawn.wipe()
    shell.show(rig.session.view())
    rig.session.close()
    rig.session.d.devices.stop()  # the fakes' worker threads: nothing is asked of them now
    if screen in UI_STEPS:
        UI_STEPS[screen](shell)
    Window.clearcolor = shell.theme.background
    # Layouts settle over a few frames (texts wrap, then their boxes grow, then the scroll
    # views place their content): draw until nothing moved in a frame, at least `frames`.
    last = None
    for n in range(40):
        EventLoop.idle()
        now = _geometry(shell)
        if n + 1 >= frames and now == last:
            break
        last = now
    return shell


def _geometry(widget: Any) -> tuple[Any, ...]:
    """Where everything on the window is, to tell when a layout has settled."""
    out: list[Any] = []
    stack = [widget]
    while stack:
        w = stack.pop()
        out.append((round(w.x), round(w.y), round(w.width), round(w.height)))
        stack.extend(w.children)
    return tuple(out)


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
