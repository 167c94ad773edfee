"""Consent to the face check: biometric data gets its own notice and its own tap (PIPL art.
28-29). Declining is a real choice: staff check the document by sight instead."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session import SessionView
from screens.base import KioskScreen
from screens.widgets import BigButton, Text


class ConsentScreen(KioskScreen):
    kv_name = "consent"

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        body.add_widget(Text(theme=th, role="title", bold=True, text=self.t("consent.title")))
        for key in ("consent.what", "consent.kept", "consent.other_way"):
            body.add_widget(Text(theme=th, role="body", text=self.t(key)))
        body.add_widget(Widget(size_hint_y=0.2))
        agree = BigButton(theme=th, kind="primary", tall=True, title=self.t("consent.agree"))
        agree.bind(on_release=lambda *_: self.intents.consent_face(True))
        body.add_widget(agree)
        declined = view.notice is not None and view.notice.key == "consent_declined"
        if declined:  # the other way, said and one tap away
            staff = BigButton(theme=th, kind="staff", title=self.t("frame.call_staff"),
                              subtitle=self.t("consent.staff_checks"))
            staff.bind(on_release=lambda *_: self.intents.call_staff())
            body.add_widget(staff)
        else:
            decline = BigButton(theme=th, kind="secondary", title=self.t("consent.decline"))
            decline.bind(on_release=lambda *_: self.intents.consent_face(False))
            body.add_widget(decline)
