"""好差评: how was this visit? Five levels, one tap; a bad rating may say why (optional) and
opens a follow-up in the back office; skipping is always one tap. Nothing personal is left:
the privacy wipe ran before this screen."""

from __future__ import annotations

from kiosk.session import SessionView
from kiosk.session.visit import BAD, LEVELS, REASONS
from screens.base import KioskScreen
from screens.widgets import BigButton, Text


class RateScreen(KioskScreen):
    kv_name = "rate"

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        level = view.rating_level
        if level is not None and level <= BAD:
            self._reasons(view)
            return
        body.add_widget(Text(theme=th, role="title", bold=True, text=self.t("rate.title")))
        body.add_widget(Text(theme=th, role="body", tone="muted", text=self.t("rate.why_ask")))
        for value in LEVELS:
            button = BigButton(theme=th, kind="secondary", title=self.t(f"rate.level_{value}"))
            button.bind(on_release=lambda _b, v=value: self.intents.rate(v))
            body.add_widget(button)
        skip = BigButton(theme=th, kind="secondary", title=self.t("rate.skip"))
        skip.bind(on_release=lambda *_: self.intents.skip_rating())
        body.add_widget(skip)

    def _reasons(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.add_widget(Text(theme=th, role="title", bold=True, text=self.t("rate.sorry")))
        body.add_widget(Text(theme=th, role="body", text=self.t("rate.pick_reasons")))
        for code in REASONS:
            chosen = code in view.rating_reasons
            button = BigButton(theme=th, kind="selected" if chosen else "secondary",
                               title=("✓ " if chosen else "") + self.t(f"rate.reason_{code}"))
            button.bind(on_release=lambda _b, c=code: self.intents.toggle_reason(c))
            body.add_widget(button)
        send = BigButton(theme=th, kind="primary", tall=True, title=self.t("rate.send"))
        send.bind(on_release=lambda *_: self.intents.send_rating())
        body.add_widget(send)
