"""What every screen shares: the theme, the intents, and drawing from a session view."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.config.catalogue import Service, load_catalogue
from kiosk.session import SessionView
from screens.i18n import t
from screens.intents import Intents

KV_DIR = __file__.rsplit("/", 1)[0] + "/kv"
_loaded: set[str] = set()


def load_kv(name: str) -> None:
    """Each screen's .kv is loaded once, when the screen is first built."""
    if name not in _loaded:
        Builder.load_file(f"{KV_DIR}/{name}.kv")
        _loaded.add(name)


def is_landscape() -> bool:
    """1920x1080 panels get two columns where portrait has one."""
    from kivy.core.window import Window

    return bool(Window.width > Window.height)


def content_of(view: SessionView) -> SessionView:
    """The view without what changes every tick, to tell when a screen must be redrawn."""
    return replace(view, countdown_s=None, waited_s=0.0, extensions_left=0)


class KioskScreen(Screen):  # type: ignore[misc]
    theme = ObjectProperty(None)
    intents: Intents = ObjectProperty(None)
    profile = ObjectProperty(None)
    lang = StringProperty("zh")
    keyboard = ObjectProperty(None, allownone=True)  # the shell's, docked under the screen
    kv_name = ""

    def __init__(self, **kwargs: Any) -> None:
        load_kv(self.kv_name or self.name)
        super().__init__(**kwargs)
        self._drawn: SessionView | None = None

    def offered_services(self) -> list[Service]:
        catalogue = load_catalogue()
        return [catalogue.get(s) for s in self.profile.services]

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def show(self, view: SessionView) -> None:
        content = content_of(view)
        if content != self._drawn or self.theme.elder != view.elder:
            self._drawn = content
            self.lang = view.language
            self.render(view)
            self._label_scrollers()
        self.tick(view)

    def _label_scrollers(self) -> None:
        from screens.widgets import Scroller

        for widget in self.ids.values():
            if isinstance(widget, Scroller):
                widget.more_words = self.t("frame.more_below")
                widget.top_words = self.t("frame.back_to_top")

    def render(self, view: SessionView) -> None:
        """Draw everything that depends on the view's content."""

    def release_keyboard(self) -> None:
        """Let go of the on-screen keyboard (only screens with text fields hold it)."""

    def focused(self, field: Any, on: bool, mode: str) -> None:
        if on:
            self.type_into(field, mode)

    def type_into(self, field: Any, mode: str = "pinyin") -> None:
        """A field was touched: the keyboard types into it, and the screen scrolls it into
        view above the keyboard."""
        from kivy.clock import Clock

        if self.keyboard is None or self.keyboard.field is field:
            return
        self.keyboard.attach(field, mode)
        body = self.ids.get("body") or self.ids.get("scroller")
        if body is not None and hasattr(body, "show"):
            Clock.schedule_once(lambda _dt: body.show(field), 0.05)

    def holds_keyboard(self, fields: Any) -> bool:
        return self.keyboard is not None and any(self.keyboard.field is f for f in fields)

    def wipe(self) -> None:
        """The privacy wipe on screen: drop every widget drawn from a citizen's session."""
        self._drawn = None
        body = self.ids.get("body")
        if body is not None and hasattr(body, "clear_widgets"):
            body.clear_widgets()

    def tick(self, view: SessionView) -> None:
        """Update what moves every tick (progress of a wait)."""
