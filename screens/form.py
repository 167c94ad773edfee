"""The form: only what the data platform lacks. Choices are big buttons; text is typed on
the docked on-screen keyboard. Built once per service and language, then updated in place,
so that typing never loses focus."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.textinput import TextInput

from kiosk.config.catalogue import FieldSpec
from kiosk.session import SessionView
from screens.base import KioskScreen
from screens.widgets import BigButton, ErrorText, Text, clear_field, text_field


class FormScreen(KioskScreen):
    kv_name = "form"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._built_for: tuple[str, str, bool] | None = None
        self._inputs: dict[str, TextInput] = {}
        self._choices: dict[str, list[tuple[str, BigButton]]] = {}
        self._errors: dict[str, Text] = {}
        self._who: Text | None = None
        self._echo_guard = False

    def release_keyboard(self) -> None:
        """Unfocus every field and let the keyboard go, if it types into one of ours."""
        if self.holds_keyboard(self._inputs.values()):
            self.keyboard.detach()
        for text_input in self._inputs.values():
            text_input.focus = False

    def wipe(self) -> None:
        self.release_keyboard()
        for text_input in self._inputs.values():
            self._echo_guard = True
            try:
                clear_field(text_input)  # typed text and its undo history go with the session
            finally:
                self._echo_guard = False
        super().wipe()
        self._built_for, self._who = None, None
        self._inputs, self._choices, self._errors = {}, {}, {}

    def render(self, view: SessionView) -> None:
        if view.service is None:
            return
        key = (view.service.id, self.lang, view.elder)
        if key != self._built_for:
            self._build(view)
            self._built_for = key
        if self._who is not None:
            self._who.text = self.t("form.who", name=view.masked_name or "",
                                    id=view.masked_id or "")
        for name, text_input in self._inputs.items():
            wanted = view.values.get(name, "")
            if text_input.text != wanted and not text_input.focus:
                # Writing a value back is not typing: no intent may echo from it, or two
                # views in flight bounce the text between them for ever.
                self._echo_guard = True
                try:
                    text_input.text = wanted
                finally:
                    self._echo_guard = False
        for name, buttons in self._choices.items():
            for value, button in buttons:
                button.kind = "selected" if view.values.get(name) == value else "secondary"
        for name, label in self._errors.items():
            error = view.errors.get(name)
            label.text = "▲ " + self.t(f"form.{error}") if error else ""  # never colour alone

    def _build(self, view: SessionView) -> None:
        self.release_keyboard()
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        self._inputs, self._choices, self._errors = {}, {}, {}
        assert view.service is not None
        body.add_widget(Text(theme=th, role="title", text=self.t("form.title")))
        self._who = Text(theme=th, role="body", tone="muted")
        body.add_widget(self._who)
        body.add_widget(Text(theme=th, role="small", tone="muted",
                             text=self.t("form.prefilled")))
        for spec in view.service.fields:
            body.add_widget(Text(theme=th, role="body", bold=True,
                                 text=spec.label.get(self.lang)))
            body.add_widget(self._field(spec))
            error = ErrorText(theme=th)
            self._errors[spec.name] = error
            body.add_widget(error)
        submit = BigButton(theme=th, kind="primary", tall=True, title=self.t("form.next"))
        submit.bind(on_release=lambda *_: self._submit())
        body.add_widget(submit)

    def _field(self, spec: FieldSpec) -> Any:
        th = self.theme
        if spec.kind == "choice":
            row = BoxLayout(orientation="vertical", spacing=th.gap, size_hint_y=None)
            row.bind(minimum_height=row.setter("height"))
            buttons = []
            for choice in spec.choices:
                b = BigButton(theme=th, kind="secondary", title=choice.label.get(self.lang))
                b.bind(on_release=lambda _b, n=spec.name, v=choice.value:
                       self.intents.set_field(n, v))
                row.add_widget(b)
                buttons.append((choice.value, b))
            self._choices[spec.name] = buttons
            return row
        box = text_field(th, self.t("form.type_here"))
        box.bind(text=lambda _w, value, n=spec.name: self._typed(n, value),
                 focus=lambda w, on: self.focused(w, on, "pinyin"))
        self._inputs[spec.name] = box
        return box

    def _typed(self, name: str, value: str) -> None:
        if not self._echo_guard:
            self.intents.set_field(name, value)

    def _submit(self) -> None:
        for text_input in self._inputs.values():
            text_input.focus = False
        self.intents.submit_form()
