"""Home: 我要办 / 我要取 / 我要查 / 我要问 — four big choices, nothing else."""

from __future__ import annotations

from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.config.catalogue import Intent
from kiosk.session import SessionView
from screens.base import KioskScreen, is_landscape
from screens.widgets import BigButton, Text


class HomeScreen(KioskScreen):
    kv_name = "home"

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        body.add_widget(Text(theme=th, role="title", text=self.t("home.greeting")))
        body.add_widget(Widget(size_hint_y=0.1))
        landscape = is_landscape()
        grid = GridLayout(cols=2 if landscape else 1, spacing=th.gap, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        body.add_widget(grid)
        offered = {s.intent for s in self.offered_services()}
        down = dict(view.unavailable_intents)  # greyed, saying why (e.g. while offline)
        for intent, key in ((Intent.APPLY, "apply"), (Intent.COLLECT, "collect"),
                            (Intent.QUERY, "query")):
            if intent not in offered:
                continue
            reason = down.get(intent.value)
            hint = (self.t("home.unavailable", reason=self.t(f"reason.{reason}")) if reason
                    else self.t(f"home.{key}_hint"))
            button = BigButton(theme=th, tall=True, kind="disabled" if reason else "primary",
                               title=self.t(f"home.{key}"), subtitle=hint)
            button.bind(on_release=lambda _b, i=intent: self.intents.choose_intent(i))
            grid.add_widget(button)
        ask = BigButton(theme=th, tall=True, kind="staff", title=self.t("home.ask"),
                        subtitle=self.t("home.ask_hint"))
        ask.bind(on_release=lambda *_: self.intents.call_staff())
        grid.add_widget(ask)
        body.add_widget(Widget())
