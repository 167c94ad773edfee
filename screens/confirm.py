"""Confirm: what will be submitted, in plain words; one dominant button."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session import SessionView
from screens.base import KioskScreen
from screens.i18n import answers
from screens.widgets import BigButton, Text


class ConfirmScreen(KioskScreen):
    kv_name = "confirm"

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        body.add_widget(Text(theme=th, role="title", text=self.t("confirm.title")))
        if view.service is None:
            return
        rows = [
            (self.t("confirm.service"), view.service.title.get(self.lang)),
            (self.t("confirm.applicant"), f"{view.masked_name or ''}  {view.masked_id or ''}"),
        ]
        rows += answers(self.lang, view.service, view.values)
        for question, answer in rows:
            body.add_widget(Text(theme=th, role="small", tone="muted", text=question))
            body.add_widget(Text(theme=th, role="body", bold=True, text=answer))
        body.add_widget(Widget())
        if view.service.output in ("receipt", "certificate"):
            note = "confirm.note_certificate" if view.service.issues == "certificate" \
                else "confirm.note"
            body.add_widget(Text(theme=th, role="small", tone="muted", text=self.t(note)))
        certificate = view.service.issues == "certificate"
        submit = BigButton(theme=th, kind="primary", tall=True, title=self.t(
            "confirm.submit_certificate" if certificate else "confirm.submit"))
        submit.bind(on_release=lambda *_: self.intents.confirm())
        body.add_widget(submit)
