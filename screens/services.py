"""The service list: at most six choices a page; a service that cannot be done now says why."""

from __future__ import annotations

from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.session import SessionView
from screens.base import KioskScreen, is_landscape
from screens.widgets import BigButton, Text

PAGE = 6


class ServicesScreen(KioskScreen):
    kv_name = "services"
    page = 0

    def render(self, view: SessionView) -> None:
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        title = view.group_title.get(self.lang) if view.group_title else self.t("services.title")
        body.add_widget(Text(theme=th, role="title", text=title))
        per_page = 4 if view.elder else PAGE  # fewer choices per screen in elder mode
        pages = max(1, -(-len(view.choices) // per_page))
        self.page %= pages
        shown = view.choices[self.page * per_page:(self.page + 1) * per_page]
        landscape = is_landscape()
        grid = GridLayout(cols=2 if landscape else 1, spacing=th.gap, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for item in shown:
            reason = item.unavailable_reason
            subtitle = (self.t("services.unavailable", reason=self.t(f"reason.{reason}"))
                        if reason else item.summary.get(self.lang))
            button = BigButton(theme=th, tall=not landscape, title=item.title.get(self.lang),
                               subtitle=subtitle, kind="disabled" if reason else "primary")
            button.bind(on_release=lambda _b, i=item.id: self.intents.choose(i))
            grid.add_widget(button)
        body.add_widget(grid)
        if pages > 1:  # where am I in the list, and both ways through it
            body.add_widget(Text(theme=th, role="small", tone="muted", halign="center",
                                 text=self.t("services.page", page=self.page + 1,
                                             pages=pages)))
            turn = GridLayout(cols=2, spacing=th.gap, size_hint_y=None)
            turn.bind(minimum_height=turn.setter("height"))
            for key, step in (("services.previous", -1), ("services.more", 1)):
                last = (self.page == 0) if step < 0 else (self.page == pages - 1)
                button = BigButton(theme=th, kind="disabled" if last else "secondary",
                                   title=self.t(key), disabled=last)
                button.bind(on_release=lambda _b, d=step: self._turn(view, d))
                turn.add_widget(button)
            body.add_widget(turn)
        body.add_widget(Widget())

    def wipe(self) -> None:
        self.page = 0
        super().wipe()

    def _turn(self, view: SessionView, step: int) -> None:
        self.page += step
        self.render(view)
