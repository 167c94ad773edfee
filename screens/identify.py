"""Identify and verify: present a card, then look at the camera. Costs no taps: the screen
says what it waits for, shows an animation of the card slot or the camera, and how long the
wait has lasted. The face image is never shown back.

A passport on the reader whose chip wants its data-page details (Basic Access Control) turns
the animation into three fields to type them in: passport number, birth date, expiry date."""

from __future__ import annotations

import math
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line, RoundedRectangle
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty, OptionProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk.config.catalogue import Intent
from kiosk.session import SessionView, State
from screens.base import KioskScreen, is_landscape
from screens.i18n import identify_words
from screens.widgets import BigButton, ErrorText, Text, clear_field, text_field

PASSPORT_FIELDS = ("passport_number", "birth_date", "expiry_date")


class DeviceAnimation(Widget):  # type: ignore[misc]
    """A card sliding onto the reader, or a camera lens pulsing."""

    theme = ObjectProperty(None)
    mode = OptionProperty("card", options=["card", "camera"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._phase = 0.0
        self._event: Any = None
        self.bind(pos=self.draw, size=self.draw, mode=self.draw)

    def run(self, on: bool) -> None:
        if on and self._event is None:
            self._event = Clock.schedule_interval(self._step, 1 / 15)
        elif not on and self._event is not None:
            self._event.cancel()
            self._event = None

    def _step(self, dt: float) -> None:
        self._phase = (self._phase + dt / 2.0) % 1.0
        self.draw()

    def draw(self, *_: object) -> None:
        th = self.theme
        if th is None:
            return
        self.canvas.clear()
        cx, cy = self.center
        s = min(self.width, self.height) * 0.8
        ease = (1 - math.cos(self._phase * 2 * math.pi)) / 2
        with self.canvas:
            if self.mode == "card":
                w, h = s * 0.7, s * 0.44
                Color(*th.muted)  # the reader's slot, at the bottom of the area
                Line(rounded_rectangle=(cx - s * 0.45, cy - s * 0.5, s * 0.9, s * 0.22, 16),
                     width=3)
                Color(*th.primary)  # the card, coming down onto it
                y = cy + s * 0.02 - ease * s * 0.4
                RoundedRectangle(pos=(cx - w / 2, y), size=(w, h), radius=[18])
                Color(*th.primary_text)
                RoundedRectangle(pos=(cx - w * 0.4, y + h * 0.2), size=(w * 0.22, h * 0.6),
                                 radius=[6])
            else:
                Color(*th.muted)
                Line(circle=(cx, cy, s * 0.45), width=3)
                Color(*th.primary)
                r = s * (0.18 + 0.1 * ease)
                Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))


CODE_DIGITS = 6


class IdentifyScreen(KioskScreen):
    kv_name = "identify"
    asking_passport = BooleanProperty(False)
    entering_code = BooleanProperty(False)  # 我要取: the citizen types a pickup code

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fields: dict[str, TextInput] = {}
        self._errors: dict[str, Text] = {}
        self._built_for: tuple[str, bool] | None = None
        self._code = ""
        self._code_shown: Text | None = None
        self._code_built_for: tuple[str, bool, bool] | None = None
        self._last_view: SessionView | None = None

    def render(self, view: SessionView) -> None:
        verify = view.state is State.VERIFY
        ids = self.ids
        ids.service.text = (self.t("identify.for", service=view.service.title.get(self.lang))
                            if view.service else "")
        if verify:
            stopped = "failed_" if view.face_gave_up else ""  # staff must look now
            ids.title.text = self.t(f"identify.verify_{stopped}title")
            ids.prompt.text = self.t(f"identify.verify_{stopped}prompt")
        else:  # an ID card, or every document accepted here
            ids.title.text, ids.prompt.text = identify_words(self.lang, view.documents)
        ids.waiting.text = "" if view.face_gave_up else self.t("identify.waiting")
        ids.animation.mode = "camera" if verify else "card"
        self._last_view = view
        self._pickup_code(view)
        if self.entering_code:  # the keypad says what to do: the card's words would not
            # (a landscape screen has no room for the line under the title: the title says it)
            ids.title.text = self.t("code.title")
            ids.prompt.text = "" if is_landscape() else self.t("code.prompt")
            ids.waiting.text = ""
        waiting = not (view.face_gave_up or self.asking_passport or self.entering_code)
        ids.animation.opacity = ids.progress.opacity = 1 if waiting else 0
        self._passport(view)
        if view.passport_details:  # the fields need the room (the panel has the title)
            ids.service.text = ids.title.text = ids.prompt.text = ids.waiting.text = ""

    def _pickup_code(self, view: SessionView) -> None:
        """我要取 on its identify screen: a pickup code may be typed instead of a document."""
        toggle = self.ids.code_toggle
        collecting = view.state is State.IDENTIFY and view.service is not None and \
            view.service.intent is Intent.COLLECT
        if not collecting:
            toggle.clear_widgets()
            self.entering_code = False
            return
        key = (self.lang, view.elder, is_landscape())
        if key != self._code_built_for or not toggle.children:
            self._build_codepad()
            self._code_built_for = key
        switch = toggle.children[0]
        switch.title = self.t("code.use_card" if self.entering_code else "code.use_code")

    def _build_codepad(self) -> None:
        th, pad, toggle = self.theme, self.ids.codepad, self.ids.code_toggle
        toggle.clear_widgets()
        switch = BigButton(theme=th, kind="secondary", title=self.t("code.use_code"))
        switch.bind(on_release=lambda *_: self._toggle_code())
        toggle.add_widget(switch)
        pad.clear_widgets()
        self._code_shown = Text(theme=th, role="huge", bold=True, halign="center")
        pad.add_widget(self._code_shown)
        # Two rows of six on a landscape screen: three rows of touch-sized keys would push the
        # code itself under the top bar.
        keys = GridLayout(cols=6 if is_landscape() else 3, spacing=max(dp(16), th.gap / 2),
                          size_hint_y=None)
        keys.bind(minimum_height=keys.setter("height"))
        for label in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"):
            words = self.t(f"code.{label}") if label in ("clear", "ok") else label
            key = BigButton(theme=th, kind="primary" if label == "ok" else "secondary",
                            title=words)
            key.bind(on_release=lambda _b, k=label: self._key(k))
            keys.add_widget(key)
        pad.add_widget(keys)
        self._show_code()

    def _toggle_code(self) -> None:
        self.entering_code = not self.entering_code
        self._code = ""
        self._show_code()
        if self._last_view is not None:
            self.render(self._last_view)

    def _key(self, key: str) -> None:
        if key == "clear":
            self._code = ""
        elif key == "ok":
            if len(self._code) == CODE_DIGITS:
                self.intents.pickup_code(self._code)
            self._code = ""
        elif len(self._code) < CODE_DIGITS:
            self._code += key
        self._show_code()

    def _show_code(self) -> None:
        if self._code_shown is not None:
            self._code_shown.text = " ".join(self._code.ljust(CODE_DIGITS, "_"))

    def _passport(self, view: SessionView) -> None:
        """The passport details to type, while the chip wants them; hidden while it is read,
        and kept (what was typed too) in case the chip refuses them."""
        self.asking_passport = view.passport_details
        if not view.passport_details:
            self.release_keyboard()
            return
        key = (self.lang, view.elder)
        if key != self._built_for:
            typed = {name: f.text for name, f in self._fields.items()}
            self._build()
            for name, text in typed.items():
                self._fields[name].text = text
            self._built_for = key
        for name, label in self._errors.items():
            error = view.errors.get(name)
            label.text = self.t(f"passport.{name}_invalid") if error else ""

    def _build(self) -> None:
        self.release_keyboard()
        th, panel = self.theme, self.ids.passport
        panel.clear_widgets()
        self._fields, self._errors = {}, {}
        panel.add_widget(Text(theme=th, role="title", bold=True, text=self.t("passport.title")))
        for name in PASSPORT_FIELDS:
            panel.add_widget(Text(theme=th, role="small", text=self.t(f"passport.{name}")))
            field = text_field(th, self.t(f"passport.{name}_hint"))
            # The number is letters and digits as printed; the dates are digits.
            mode = "latin" if name == "passport_number" else "digits"
            field.bind(focus=lambda w, on, m=mode: self.focused(w, on, m))
            self._fields[name] = field
            panel.add_widget(field)
            error = ErrorText(theme=th)
            self._errors[name] = error
            panel.add_widget(error)
        read = BigButton(theme=th, kind="primary", title=self.t("passport.read"))
        read.bind(on_release=lambda *_: self._read())
        panel.add_widget(read)

    def _read(self) -> None:
        self.release_keyboard()
        f = self._fields
        self.intents.enter_passport_details(f["passport_number"].text, f["birth_date"].text,
                                            f["expiry_date"].text)

    def release_keyboard(self) -> None:
        if self.holds_keyboard(self._fields.values()):
            self.keyboard.detach()
        for field in self._fields.values():
            field.focus = False

    def wipe(self) -> None:
        self.release_keyboard()
        self._code, self.entering_code = "", False  # what was typed goes with the session
        self._last_view = None
        self._show_code()
        for field in self._fields.values():
            clear_field(field)  # the passport's details go with the session
        self.ids.passport.clear_widgets()
        self._fields, self._errors, self._built_for = {}, {}, None
        self.asking_passport = False
        super().wipe()

    def tick(self, view: SessionView) -> None:
        if view.wait_limit_s > 0:
            self.ids.progress.value = min(1.0, view.waited_s / view.wait_limit_s)

    def on_enter(self, *_: object) -> None:
        self.ids.animation.run(True)

    def on_leave(self, *_: object) -> None:
        self.ids.animation.run(False)
