"""Shared widgets of the touch UI: big buttons, labels that wrap, the warning icon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.graphics import Color, Line, RoundedRectangle, Triangle
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from screens.theme import Theme


class Themed:
    """Restyle when the theme is set and whenever elder mode or contrast switch."""

    _watched: Theme | None = None

    def _watch_theme(self, *_: object) -> None:
        theme: Theme | None = self.theme  # type: ignore[attr-defined]
        if theme is self._watched:
            return
        if self._watched is not None:
            self._watched.unbind(elder=self._restyle, high_contrast=self._restyle)
        if theme is not None:
            theme.bind(elder=self._restyle, high_contrast=self._restyle)
        self._watched = theme
        self._restyle()

    def _restyle(self, *_: object) -> None:
        raise NotImplementedError


class Text(Themed, Label):  # type: ignore[misc]
    """A label that wraps to its width and is as tall as its text."""

    theme = ObjectProperty(None, allownone=True)
    role = OptionProperty("body", options=["small", "body", "title", "huge"])
    tone = OptionProperty("text", options=["text", "muted", "on_primary", "warning", "staff"])

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("halign", "left")
        kwargs.setdefault("valign", "middle")
        super().__init__(**kwargs)
        self.size_hint_y = None
        self.bind(width=self._wrap, texture_size=self._fit, text=self._fit)
        self.bind(theme=self._watch_theme, role=self._restyle, tone=self._restyle)
        self._watch_theme()
        self._fit()  # an empty text takes no room (not Kivy's default 100 px)

    def _wrap(self, *_: object) -> None:
        self.text_size = (self.width, None)

    def _fit(self, *_: object) -> None:
        self.height = self.texture_size[1] if self.text else 0

    def _restyle(self, *_: object) -> None:
        th: Theme | None = self.theme
        if th is None:
            return
        self.font_size = {"small": th.font_small, "body": th.font_body,
                          "title": th.font_title, "huge": th.font_huge}[self.role]
        self.line_height = 1.3 if self.role in ("small", "body") else 1.15
        self.color = {"text": th.text, "muted": th.muted, "on_primary": th.primary_text,
                      "warning": th.warning_text, "staff": th.staff_text}[self.tone]


class BigButton(Themed, ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A touch target with a title and an optional line under it."""

    theme = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    subtitle = StringProperty("")
    kind = OptionProperty("primary", options=["primary", "secondary", "staff", "disabled",
                                              "selected", "switched_on"])
    bg = ListProperty([0, 0, 0, 0])
    fg = ListProperty([0, 0, 0, 1])
    tall = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="vertical", **kwargs)
        self.size_hint_y = None
        with self.canvas.before:
            self._colour = Color(0, 0, 0, 0)
            self._rect = RoundedRectangle()
            self._edge_colour = Color(0, 0, 0, 0)
            self._edge = Line(width=2)
        self._title = Label(halign="center", valign="middle", size_hint_y=None)
        self._sub = Label(halign="center", valign="middle", size_hint_y=None)
        for label in (self._title, self._sub):
            label.bind(texture_size=self._fit)
        self.add_widget(self._title)
        self.bind(pos=self._draw, size=self._draw, state=self._draw, bg=self._draw)
        self.bind(width=self._fit)
        self.bind(title=self._relabel, subtitle=self._relabel, theme=self._watch_theme,
                  kind=self._restyle, tall=self._restyle)
        self._watch_theme()

    def _relabel(self, *_: object) -> None:
        self._title.text = self.title
        self._sub.text = self.subtitle
        if self.subtitle and self._sub.parent is None:
            self.add_widget(self._sub)
        elif not self.subtitle and self._sub.parent is not None:
            self.remove_widget(self._sub)

    def _restyle(self, *_: object) -> None:
        th: Theme | None = self.theme
        if th is None:
            return
        colours = {
            "primary": (th.primary, th.primary_text),
            "selected": (th.primary, th.primary_text),
            "secondary": (th.surface, th.text),
            "staff": (th.staff, th.staff_text),
            "disabled": (th.disabled_bg, th.disabled_text),
            # A top-bar switch that is on: stands out from the bar it sits on.
            "switched_on": (th.text, th.background),
        }
        self.bg, self.fg = colours[self.kind]
        for label, size in ((self._title, th.font_title if self.tall else th.font_body),
                            (self._sub, th.font_small)):
            label.font_size = size
            label.color = self.fg
        self._relabel()
        self._fit()
        self._draw()

    def _fit(self, *_: object) -> None:
        """At least a full touch target; taller when a long title wraps (never clipped)."""
        th: Theme | None = self.theme
        if th is None:
            return
        inner = max(1.0, self.width - 2 * th.gap)
        for label in (self._title, self._sub):
            label.text_size = (inner, None)
            label.height = label.texture_size[1]
        text_h = self._title.height + (self._sub.height if self._sub.parent else 0)
        base = th.big_target_h if self.tall else th.target_h
        self.height = max(base, text_h + th.gap)
        pad_v = max(th.gap / 4, (self.height - text_h) / 2)
        self.padding = [th.gap, pad_v]

    def _draw(self, *_: object) -> None:
        th: Theme | None = self.theme
        r = th.radius if th else 0
        bg = list(self.bg)
        if self.state == "down":
            bg = [c * 0.8 for c in bg[:3]] + [bg[3]]
        self._colour.rgba = bg
        self._rect.pos, self._rect.size, self._rect.radius = self.pos, self.size, [r]
        # Light buttons on a light screen get an outline, so the target's edge is visible.
        edge = self.kind in ("secondary", "staff", "disabled") and th is not None
        self._edge_colour.rgba = list(th.muted) if edge and th else [0, 0, 0, 0]
        self._edge.rounded_rectangle = (self.x, self.y, self.width, self.height, r)


class WarningIcon(Widget):  # type: ignore[misc]
    """A triangle with an exclamation mark: meaning is never carried by colour alone."""

    colour = ListProperty([0, 0, 0, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, colour=self._draw)

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        s = min(self.width, self.height)
        x, y = self.center_x - s / 2, self.center_y - s / 2
        with self.canvas:
            Color(*self.colour)
            Line(points=[x, y, x + s, y, x + s / 2, y + s * 0.9], close=True, width=3)
            Triangle(points=[x + s * 0.46, y + s * 0.62, x + s * 0.54, y + s * 0.62,
                             x + s / 2, y + s * 0.3])
            Line(circle=(x + s / 2, y + s * 0.17, s * 0.04), width=3)


class LockerMap(Widget):  # type: ignore[misc]
    """The locker's compartments as they stand (each at its column and row, with the label on
    its door), the citizen's filled and labelled large, so that A-03 of 48 is found at a
    glance."""

    theme = ObjectProperty(None, allownone=True)

    def __init__(self, cells: Sequence[tuple[int, str, int, int]], door: int,
                 **kwargs: Any) -> None:
        """`cells`: (number, label, column, row) of each compartment."""
        super().__init__(**kwargs)
        self.cells, self.door = list(cells), door
        self._labels: list[Label] = []
        self.bind(pos=self._draw, size=self._draw, theme=self._draw)

    def _draw(self, *_: object) -> None:
        th: Theme | None = self.theme
        if th is None or not self.cells:
            return
        for label in self._labels:
            self.remove_widget(label)
        self._labels = []
        self.canvas.before.clear()
        columns = max(c[2] for c in self.cells)
        rows = max(c[3] for c in self.cells)
        gap = 10
        cell_w = min((self.width - gap * (columns - 1)) / columns,
                     (self.height - gap * (rows - 1)) / rows * 1.6)
        cell_h = cell_w / 1.6
        left = self.center_x - (cell_w * columns + gap * (columns - 1)) / 2
        top = self.center_y + (cell_h * rows + gap * (rows - 1)) / 2
        for number, text, column, row in self.cells:
            x = left + (column - 1) * (cell_w + gap)
            y = top - row * cell_h - (row - 1) * gap
            mine = number == self.door
            with self.canvas.before:
                Color(*(th.primary if mine else th.surface))
                RoundedRectangle(pos=(x, y), size=(cell_w, cell_h), radius=[8])
                Color(*th.muted)
                Line(rounded_rectangle=(x, y, cell_w, cell_h, 8), width=2 if not mine else 4)
            label = Label(text=text, pos=(x, y), size=(cell_w, cell_h),
                          font_size=th.font_title if mine else th.font_small,
                          bold=mine, color=th.primary_text if mine else th.muted)
            self._labels.append(label)
            self.add_widget(label)


def text_field(th: Theme, hint: str) -> TextInput:
    """A one-line text field of touch size, typed on the docked on-screen keyboard."""
    return TextInput(multiline=False, font_size=th.font_body, size_hint_y=None,
                     height=th.target_h, hint_text=hint,
                     padding=[th.gap, (th.target_h - th.font_body * 1.2) / 2],
                     write_tab=False, background_normal="", background_active="",
                     background_color=th.surface, foreground_color=th.text,
                     hint_text_color=th.muted, cursor_color=th.primary, cursor_width=4)


def clear_field(field: TextInput) -> None:
    """Unfocus and empty a field, its undo history too (typed personal data goes with it)."""
    field.focus = False
    field.text = ""
    field._undo, field._redo = [], []
