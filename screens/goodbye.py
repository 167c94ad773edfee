"""Goodbye: thanks, and the word that personal data has gone (it was wiped before this screen
was drawn). A card left in a reader turns the whole screen into a call-out, with an icon and
a sound in every mode, until the card is taken (past the limit staff are told too)."""

from __future__ import annotations

from kivy.properties import BooleanProperty
from kivy.uix.widget import Widget

from kiosk.session import SessionView
from screens.base import KioskScreen
from screens.widgets import CardIcon, Text


class GoodbyeScreen(KioskScreen):
    kv_name = "goodbye"
    card_left = BooleanProperty(False)

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        self.card_left = view.card_left
        self.audit_bg = list(th.warning_bg) if view.card_left else None  # what it paints
        if view.card_left:
            body.add_widget(Widget(size_hint_y=0.2))
            body.add_widget(CardIcon(theme=th, size_hint_y=None, height=th.big_target_h * 1.4))
            body.add_widget(Text(theme=th, role="huge", tone="warning", bold=True,
                                 halign="center", text=self.t("goodbye.take_card")))
            body.add_widget(Text(theme=th, role="title", tone="warning", halign="center",
                                 text=self.t("goodbye.card_hint")))
            if view.card_alerted:
                body.add_widget(Text(theme=th, role="body", tone="warning", halign="center",
                                     text=self.t("goodbye.card_alerted")))
            body.add_widget(Widget(size_hint_y=0.3))
            return
        body.add_widget(Widget(size_hint_y=0.4))
        body.add_widget(Text(theme=th, role="huge", bold=True, halign="center",
                             text=self.t("goodbye.title")))
        if view.notice:
            body.add_widget(Text(theme=th, role="body", halign="center",
                                 text=self.t(f"notice.{view.notice.key}")))
        body.add_widget(Text(theme=th, role="body", tone="muted", halign="center",
                             text=self.t("goodbye.wiped")))
        body.add_widget(Widget())
