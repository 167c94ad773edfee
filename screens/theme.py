"""Colours and sizes as Kivy properties: one object, handed to every widget that draws.

Sizes follow UI.md at density 1: body >= 32 sp (44 in elder mode), titles >= 56 (72), touch
targets >= 96 dp (128 high in elder mode), 16 dp between targets.
"""

from __future__ import annotations

import weakref
from typing import Any

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty

from kiosk.config.profile import Branding

Rgba = list[float]


def rgba(hex_colour: str, alpha: float = 1.0) -> Rgba:
    return [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)] + [alpha]


HIGH_CONTRAST = {
    "primary": "#FFD500", "primary_text": "#000000", "background": "#000000",
    "surface": "#1A1A1A", "text": "#FFFFFF", "muted": "#E0E0E0", "warning_bg": "#FFD500",
    "warning_text": "#000000", "disabled_bg": "#333333", "disabled_text": "#D0D0D0",
    "staff": "#FFFFFF", "staff_text": "#000000",
}


class Theme(EventDispatcher):  # type: ignore[misc]
    elder = BooleanProperty(False)
    high_contrast = BooleanProperty(False)
    font_small = NumericProperty(sp(32))
    font_body = NumericProperty(sp(36))
    font_title = NumericProperty(sp(56))
    font_huge = NumericProperty(sp(88))
    target_h = NumericProperty(dp(120))
    big_target_h = NumericProperty(dp(180))
    gap = NumericProperty(dp(24))
    pad = NumericProperty(dp(40))
    radius = NumericProperty(dp(20))
    primary = ListProperty([0, 0, 0, 1])
    primary_text = ListProperty([1, 1, 1, 1])  # not on_primary: Kivy reserves on_<prop>
    background = ListProperty([1, 1, 1, 1])
    surface = ListProperty([1, 1, 1, 1])
    text = ListProperty([0, 0, 0, 1])
    muted = ListProperty([0.3, 0.3, 0.3, 1])
    warning_bg = ListProperty([1, 0.95, 0.8, 1])
    warning_text = ListProperty([0.3, 0.2, 0, 1])
    disabled_bg = ListProperty([0.9, 0.9, 0.9, 1])
    disabled_text = ListProperty([0.35, 0.35, 0.35, 1])
    staff = ListProperty([1, 1, 1, 1])
    staff_text = ListProperty([0, 0, 0, 1])

    def __init__(self, branding: Branding, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.branding = branding
        # The widgets that restyle when elder mode or contrast switch, held weakly: a widget
        # dropped with its session's screen goes with it. (Each binding the properties itself
        # left a dead binding behind per widget, hundreds a session, and slower taps all day.)
        self._watchers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.bind(elder=self._restyle_all, high_contrast=self._restyle_all)
        self.apply(elder=False, high_contrast=branding.high_contrast)

    def watch(self, widget: Any) -> None:
        self._watchers.add(widget)

    def forget(self, widget: Any) -> None:
        self._watchers.discard(widget)

    def _restyle_all(self, *_: object) -> None:
        for widget in list(self._watchers):
            widget._restyle()

    def apply(self, *, elder: bool, high_contrast: bool) -> None:
        # Colours and sizes first, the two flags last: widgets restyle when a flag changes
        # and must read the new values then.
        b = self.branding
        if high_contrast:
            c = HIGH_CONTRAST
        else:
            c = {
                "primary": b.primary, "primary_text": b.on_primary, "background": b.background,
                "surface": b.surface, "text": b.text, "muted": "#4A5563",
                "warning_bg": "#FFF1C2", "warning_text": "#3D2E00",
                "disabled_bg": "#E4E7EB", "disabled_text": "#4A5260",
                "staff": "#FFFFFF", "staff_text": b.primary,
            }
        for name, value in c.items():
            setattr(self, name, rgba(value))
        k = 44 / 32 if elder else 1.0
        self.font_small = sp(32 * k)
        self.font_body = sp(36 * k)
        self.font_title = sp(76 if elder else 60)
        self.font_huge = sp(88 * k)
        self.target_h = dp(136 if elder else 112)
        self.big_target_h = dp(220 if elder else 180)
        self.high_contrast = high_contrast
        self.elder = elder
