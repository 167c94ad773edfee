"""The on-screen keyboard, docked at the bottom: a kiosk has no physical keyboard.

Kivy's default docked keyboard is scaled to the window's width from a 700x200 layout, which
gives keys about 60 px tall on a 1080 px panel; a taller base layout gives keys of about
100 px. Latin letters and digits only for now: Chinese entry (pinyin or handwriting) is a
later piece of work.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.vkeyboard import VKeyboard


class KioskKeyboard(VKeyboard):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("size", (700, 340))
        kwargs.setdefault("font_size", 24)
        super().__init__(**kwargs)


def install() -> None:
    """Use this keyboard (the docked mode itself is set by screens.env before the window)."""
    from kivy.core.window import Window

    Window.set_vkeyboard_class(KioskKeyboard)
