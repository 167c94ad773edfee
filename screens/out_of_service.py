"""Out of service: no service can be offered now; where to go instead, and staff."""

from __future__ import annotations

from kiosk.session import SessionView
from screens.base import KioskScreen


class OutOfServiceScreen(KioskScreen):
    kv_name = "out_of_service"

    def render(self, view: SessionView) -> None:
        ids = self.ids
        ids.title.text = self.t("oos.title")
        ids.body.text = self.t("oos.body")
        ids.counters.text = self.t("oos.counters", hours=self.profile.hours.counters)
