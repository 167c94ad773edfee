"""Result: submitting, printing, a locker door to take from, or the answer to "my
applications". Always ends with one button: Done."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.session import Outcome, SessionView, State
from screens.base import KioskScreen
from screens.i18n import submitted_words
from screens.widgets import BigButton, LockerMap, Text


class ResultScreen(KioskScreen):
    kv_name = "result"

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        outcome = view.outcome
        if view.state is State.SUBMITTING or outcome is None:
            body.add_widget(Text(theme=th, role="title", text=self.t("result.submitting")))
            body.add_widget(Widget())
            return
        if outcome.output == "locker":
            self._locker(view, outcome)
        elif outcome.output == "screen":
            self._applications(outcome)
        elif view.state is State.HANDOVER:
            printing = "result.printing_certificate" if outcome.output == "certificate" \
                else "result.printing"
            body.add_widget(Text(theme=th, role="title", text=self.t(printing)))
        elif outcome.output == "certificate":
            self._certificate(view, outcome)
        else:
            self._submitted(view, outcome)
        body.add_widget(Widget())
        if view.state is State.DONE:
            done = BigButton(theme=th, kind="primary", tall=True, title=self.t("result.finish"))
            done.bind(on_release=lambda *_: self.intents.finish())
            body.add_widget(done)

    def _submitted(self, view: SessionView, outcome: Outcome) -> None:
        th, body = self.theme, self.ids.body
        body.add_widget(Text(theme=th, role="title", bold=True,
                             text=submitted_words(self.lang, outcome.delivered, view.offline)))
        if outcome.delivered:
            body.add_widget(Text(theme=th, role="body", text=self.t("result.submitted_note")))
        body.add_widget(Text(theme=th, role="body", tone="muted",
                             text=self.t("result.tracking")))
        body.add_widget(Text(theme=th, role="title", text=outcome.tracking_no or ""))
        if outcome.printed:
            body.add_widget(Text(theme=th, role="body", text=self.t("result.take_receipt")))
        if view.offline and not outcome.delivered:
            body.add_widget(Text(theme=th, role="body", text=self.t("result.offline_saved")))
        if view.can_reprint:  # only when the printer can print now
            again = BigButton(theme=th, kind="secondary", title=self.t("result.reprint"))
            again.bind(on_release=lambda *_: self.intents.reprint())
            body.add_widget(again)

    def _certificate(self, view: SessionView, outcome: Outcome) -> None:
        """Issued (printed or not, with its serial), or not issued: the notice says why."""
        th, body = self.theme, self.ids.body
        if outcome.serial_no is None:
            body.add_widget(Text(theme=th, role="title", bold=True,
                                 text=self.t("result.certificate_not_issued")))
            return
        body.add_widget(Text(theme=th, role="title", bold=True,
                             text=self.t("result.certificate_issued")))
        body.add_widget(Text(theme=th, role="body", tone="muted",
                             text=self.t("result.serial")))
        body.add_widget(Text(theme=th, role="title", text=outcome.serial_no))
        if outcome.printed:
            body.add_widget(Text(theme=th, role="body",
                                 text=self.t("result.take_certificate")))
        if view.can_reprint:  # only when the A4 printer can print now
            again = BigButton(theme=th, kind="secondary", title=self.t("result.reprint"))
            again.bind(on_release=lambda *_: self.intents.reprint())
            body.add_widget(again)

    def _locker(self, view: SessionView, outcome: Outcome) -> None:
        th, body = self.theme, self.ids.body
        if outcome.nothing_to_collect:
            body.add_widget(Text(theme=th, role="title", text=self.t("result.nothing")))
        elif view.state is State.HANDOVER and outcome.door is not None:
            # While the board opens it, the map already shows where the door is.
            opening = not outcome.door_open
            door = outcome.door_label or str(outcome.door)
            body.add_widget(Text(theme=th, role="title" if opening else "huge", bold=not opening,
                                 halign="center",
                                 text=self.t("result.door_opening" if opening
                                             else "result.door_open", door=door)))
            if not opening:
                body.add_widget(Text(theme=th, role="title", halign="center",
                                     text=self.t("result.door_take")))
            body.add_widget(LockerMap(self._cells(outcome), outcome.door, theme=th))
        elif outcome.door is not None and not outcome.door_open and view.notice is None:
            body.add_widget(Text(theme=th, role="title", text=self.t("result.collected")))

    def _cells(self, outcome: Outcome) -> list[tuple[int, str, int, int]]:
        """The profile's compartments where they stand; the board's count when the profile
        has none (as many as the citizen's door needs)."""
        from kiosk.locker.layout import default_layout, profile_layout

        layout = profile_layout(self.profile) or default_layout(
            max(outcome.door_count, outcome.door or 0), board=0)
        return [(c.number, c.label, c.column, c.row) for c in layout]

    def _applications(self, outcome: Outcome) -> None:
        th, body = self.theme, self.ids.body
        body.add_widget(Text(theme=th, role="title", text=self.t("result.apps_title")))
        if outcome.applications is None:
            body.add_widget(Text(theme=th, role="body", text=self.t("result.apps_unreachable")))
            return
        if not outcome.applications:
            body.add_widget(Text(theme=th, role="body", text=self.t("result.apps_none")))
        for app in outcome.applications[:6]:
            title = app.title.get(self.lang) if app.title else app.service_id
            status = self.t(f"status.{app.status}")
            body.add_widget(BigButton(theme=th, kind="secondary", title=f"{title}  ·  {status}",
                                      subtitle=app.tracking_no))
