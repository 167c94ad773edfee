"""Attract: touch to start, what can be done here, opening hours; no personal data ever.

A slowly changing slide (one service at a time) and a small drift of the whole content keep
the panel from burning in overnight.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.uix.widget import Widget

from kiosk.session import SessionView
from screens.base import KioskScreen
from screens.widgets import BigButton, Text

SLIDE_S = 8.0


class AttractScreen(KioskScreen):
    kv_name = "attract"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._slide = 0
        self._event: Any = None

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            self.intents.touch()
            return True
        return False

    def on_enter(self, *_: object) -> None:
        self._event = Clock.schedule_interval(lambda _dt: self._next_slide(), SLIDE_S)

    def on_leave(self, *_: object) -> None:
        if self._event is not None:
            self._event.cancel()

    def _next_slide(self) -> None:
        self._slide += 1
        body = self.ids.body
        body.padding_inner = [self.theme.pad + (self._slide % 3) * 6] * 4  # drift: burn-in
        if self._drawn is not None:
            self.render(self._drawn)

    def four_here(self) -> str:
        """我要办 · 我要取 · 我要查 · 我要问, those this terminal offers (a bank has no locker)."""
        offered = {s.intent.value for s in self.offered_services()}
        words = self.t("attract.four").split(" · ")
        keep = [w for w, intent in zip(words, ("apply", "collect", "query", "ask"), strict=True)
                if intent == "ask" or intent in offered]
        return " · ".join(keep)

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        body.add_widget(Widget(size_hint_y=0.3))
        body.add_widget(Text(theme=th, role="huge", halign="center", bold=True,
                             text=self.t("attract.touch")))
        body.add_widget(Text(theme=th, role="body", tone="muted", halign="center",
                             text=self.t("attract.always_open")))
        body.add_widget(Widget(size_hint_y=0.2))
        # The four things one can do here, then the services one by one.
        body.add_widget(Text(theme=th, role="body", halign="center",
                             text=self.t("attract.four_here") + " " + self.four_here()))
        body.add_widget(Text(theme=th, role="body", text=self.t("attract.can_do")))
        offered = self.offered_services()
        for i, service in enumerate(offered[:6]):
            highlight = i == self._slide % min(6, len(offered))
            button = BigButton(theme=th, kind="primary" if highlight else "secondary",
                               title=service.title.get(self.lang),
                               subtitle=service.summary.get(self.lang) if highlight else "")
            button.bind(on_release=lambda *_: self.intents.touch())
            body.add_widget(button)
        body.add_widget(Widget(size_hint_y=0.3))
        body.add_widget(Text(theme=th, role="body", tone="muted", halign="center",
                             text=self.t("attract.counters",
                                         hours=self.profile.hours.counters)))
