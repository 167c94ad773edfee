"""Goodbye: thanks, a call-out for a card left in the reader, and the word that personal
data has gone (it was wiped before this screen was drawn)."""

from __future__ import annotations

from kiosk.session import SessionView
from screens.base import KioskScreen


class GoodbyeScreen(KioskScreen):
    kv_name = "goodbye"

    def render(self, view: SessionView) -> None:
        ids = self.ids
        ids.title.text = self.t("goodbye.title")
        ids.reason.text = self.t(f"notice.{view.notice.key}") if view.notice else ""
        ids.card.text = self.t("goodbye.take_card") if view.card_left else ""
        ids.wiped.text = self.t("goodbye.wiped")
