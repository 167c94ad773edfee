"""Identify and verify: present a card, then look at the camera. Costs no taps: the screen
says what it waits for, shows an animation of the card slot or the camera, and how long the
wait has lasted. The face image is never shown back."""

from __future__ import annotations

import math
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line, RoundedRectangle
from kivy.properties import ObjectProperty, OptionProperty
from kivy.uix.widget import Widget

from kiosk.session import SessionView, State
from screens.base import KioskScreen
from screens.i18n import identify_words


class DeviceAnimation(Widget):  # type: ignore[misc]
    """A card sliding onto the reader, or a camera lens pulsing."""

    theme = ObjectProperty(None)
    mode = OptionProperty("card", options=["card", "camera"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._phase = 0.0
        self._event: Any = None
        self.bind(pos=self.draw, size=self.draw, mode=self.draw)

    def run(self, on: bool) -> None:
        if on and self._event is None:
            self._event = Clock.schedule_interval(self._step, 1 / 15)
        elif not on and self._event is not None:
            self._event.cancel()
            self._event = None

    def _step(self, dt: float) -> None:
        self._phase = (self._phase + dt / 2.0) % 1.0
        self.draw()

    def draw(self, *_: object) -> None:
        th = self.theme
        if th is None:
            return
        self.canvas.clear()
        cx, cy = self.center
        s = min(self.width, self.height) * 0.8
        ease = (1 - math.cos(self._phase * 2 * math.pi)) / 2
        with self.canvas:
            if self.mode == "card":
                w, h = s * 0.7, s * 0.44
                Color(*th.muted)  # the reader's slot, at the bottom of the area
                Line(rounded_rectangle=(cx - s * 0.45, cy - s * 0.5, s * 0.9, s * 0.22, 16),
                     width=3)
                Color(*th.primary)  # the card, coming down onto it
                y = cy + s * 0.02 - ease * s * 0.4
                RoundedRectangle(pos=(cx - w / 2, y), size=(w, h), radius=[18])
                Color(*th.primary_text)
                RoundedRectangle(pos=(cx - w * 0.4, y + h * 0.2), size=(w * 0.22, h * 0.6),
                                 radius=[6])
            else:
                Color(*th.muted)
                Line(circle=(cx, cy, s * 0.45), width=3)
                Color(*th.primary)
                r = s * (0.18 + 0.1 * ease)
                Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))


class IdentifyScreen(KioskScreen):
    kv_name = "identify"

    def render(self, view: SessionView) -> None:
        verify = view.state is State.VERIFY
        ids = self.ids
        ids.service.text = (self.t("identify.for", service=view.service.title.get(self.lang))
                            if view.service else "")
        if verify:
            ids.title.text = self.t("identify.verify_title")
            ids.prompt.text = self.t("identify.verify_prompt")
        else:  # an ID card, or every document accepted here
            ids.title.text, ids.prompt.text = identify_words(self.lang, view.documents)
        ids.waiting.text = self.t("identify.waiting")
        ids.animation.mode = "camera" if verify else "card"

    def tick(self, view: SessionView) -> None:
        if view.wait_limit_s > 0:
            self.ids.progress.value = min(1.0, view.waited_s / view.wait_limit_s)

    def on_enter(self, *_: object) -> None:
        self.ids.animation.run(True)

    def on_leave(self, *_: object) -> None:
        self.ids.animation.run(False)
