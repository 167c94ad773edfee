"""Shared widgets of the touch UI: big buttons, labels that wrap, the warning icon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.graphics import Color, Line, RoundedRectangle, Triangle
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
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
            self._watched.forget(self)
        if theme is not None:
            theme.watch(self)
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
    compact = BooleanProperty(False)  # the top bar's switches: small text, state underneath
    edge = ListProperty([0, 0, 0, 0])  # the outline drawn round the target (transparent: none)

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
        self.bind(disabled=self._restyle)
        for label in (self._title, self._sub):
            label.bind(texture_size=self._fit)
        self.add_widget(self._title)
        self.bind(pos=self._draw, size=self._draw, state=self._draw, bg=self._draw,
                  edge=self._draw)
        self.bind(width=self._fit)
        self.bind(title=self._relabel, subtitle=self._relabel, theme=self._watch_theme,
                  kind=self._restyle, tall=self._restyle, compact=self._restyle)
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
        title = th.font_title if self.tall else th.font_small if self.compact else th.font_body
        for label, size in ((self._title, title), (self._sub, th.font_small)):
            label.font_size = size
            # A disabled button's words keep their colour: Kivy's default for a disabled
            # label is white at 30 %, unreadable on any background.
            label.color = label.disabled_color = self.fg
        # Light buttons on a light screen get an outline, so the target's edge is visible.
        # Light buttons on a light screen get an outline, so the target's edge is visible;
        # filled ones an outline in their words' colour, seen on a bar of their own colour.
        self.edge = list(th.muted) if self.kind in ("secondary", "staff", "disabled") \
            else list(th.primary_text)
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
        self._edge_colour.rgba = self.edge
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
        self._least()

    def _least(self) -> None:
        """Never so small that a door's label is under the body size: it scrolls instead."""
        th: Theme | None = self.theme
        if th is not None and self.cells:
            rows = max(c[3] for c in self.cells)
            self.size_hint_min_y = rows * (th.font_small * 1.5 + 10)

    def _draw(self, *_: object) -> None:
        th: Theme | None = self.theme
        if th is None or not self.cells:
            return
        self._least()
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
            size = max(th.font_small, min(th.font_title, cell_h * 0.7,
                                          cell_w / max(1, len(text)) * 1.6)) if mine \
                else th.font_small
            label = Label(text=text, pos=(x, y), size=(cell_w, cell_h), font_size=size,
                          bold=mine, color=th.primary_text if mine else th.text)
            label.audit_bg = th.primary if mine else th.surface  # what it is drawn on
            self._labels.append(label)
            self.add_widget(label)


class Field(TextInput):  # type: ignore[misc]
    """A one-line text field of touch size with a visible edge (thicker while typing), typed
    on the kiosk's own keyboard."""

    edge = ListProperty([0, 0, 0, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self.canvas.after:
            self._edge_colour = Color(0, 0, 0, 1)
            self._edge = Line(width=2)
        self.bind(pos=self._draw_edge, size=self._draw_edge, edge=self._draw_edge,
                  focus=self._draw_edge)

    def _draw_edge(self, *_: object) -> None:
        self._edge_colour.rgba = self.edge
        self._edge.width = 4 if self.focus else 2
        self._edge.rectangle = (self.x, self.y, self.width, self.height)


def text_field(th: Theme, hint: str) -> Field:
    """A one-line text field of touch size, typed on the kiosk's own keyboard."""
    return Field(multiline=False, font_size=th.font_body, size_hint_y=None,
                 height=th.target_h, hint_text=hint,
                 padding=[th.gap, (th.target_h - th.font_body * 1.2) / 2],
                 write_tab=False, background_normal="", background_active="",
                 background_color=th.surface, foreground_color=th.text,
                 hint_text_color=th.muted, cursor_color=th.primary, cursor_width=4,
                 edge=th.text, keyboard_mode="managed")


def clear_field(field: TextInput) -> None:
    """Unfocus and empty a field, its undo history too (typed personal data goes with it)."""
    field.focus = False
    field.text = ""
    field._undo, field._redo = [], []


class Scroller(BoxLayout):  # type: ignore[misc]
    """A screen's content between the bars. What fits is laid out as a column (hinted
    children share the room left); what does not fit scrolls, and then a button under it says
    so and turns a page (at the end: back to the top), for a citizen who does not know to
    swipe. Widgets written as its children in a .kv file go into the column."""

    theme = ObjectProperty(None, allownone=True)
    overflowing = BooleanProperty(False)
    more_words = StringProperty("")
    top_words = StringProperty("")
    padding_inner = ListProperty([0, 0, 0, 0])
    spacing_inner = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        self._ready = False
        kwargs.setdefault("spacing", 16)
        kwargs.setdefault("padding", [0, 0, 0, 16])
        super().__init__(orientation="vertical", **kwargs)
        self.view = ScrollView(do_scroll_x=False, scroll_type=["bars", "content"],
                               bar_width=12, bar_inactive_color=[0.5, 0.5, 0.5, 0.6])
        self.column = BoxLayout(orientation="vertical", size_hint_y=None)
        self.view.add_widget(self.column)
        super().add_widget(self.view)
        self.hint = BigButton(kind="secondary", size_hint_y=None)
        self.hint.bind(on_release=lambda *_: self.page_down())
        self._ready = True
        self.column.bind(minimum_height=self._fit)
        self.bind(height=self._fit, theme=self._themed, more_words=self._label,
                  top_words=self._label, padding_inner=self._inner, spacing_inner=self._inner)
        self.view.bind(height=self._fit, scroll_y=self._label)
        self._themed()
        self._inner()

    def add_widget(self, widget: Any, *args: Any, **kwargs: Any) -> None:
        if self._ready:
            self.column.add_widget(widget, *args, **kwargs)
        else:
            super().add_widget(widget, *args, **kwargs)

    def clear_widgets(self, children: Any = None) -> None:
        self.column.clear_widgets(children)
        self.view.scroll_y = 1

    def _themed(self, *_: object) -> None:
        if self.theme is not None:
            self.hint.theme = self.theme
            self.view.bar_color = self.theme.primary
            self.view.bar_width = self.theme.gap / 2

    def _inner(self, *_: object) -> None:
        self.column.padding = self.padding_inner
        self.column.spacing = self.spacing_inner

    def _fit(self, *_: object) -> None:
        """Overflowing is decided on the whole height (with or without the hint), so that
        showing the hint never flips it back."""
        need = self.column.minimum_height
        over = need > self.height + 0.5
        if over != self.overflowing:
            self.overflowing = over
            if over:
                super().add_widget(self.hint)
            else:
                super().remove_widget(self.hint)
        self.column.height = max(self.view.height, need)
        self._label()

    def _label(self, *_: object) -> None:
        at_end = self.view.scroll_y <= 0.01
        self.hint.title = self.top_words if at_end else self.more_words

    def page_down(self) -> None:
        room = self.column.height - self.view.height
        if room <= 0 or self.view.scroll_y <= 0.01:
            self.view.scroll_y = 1
        else:
            self.view.scroll_y = max(0.0, self.view.scroll_y - self.view.height / room)

    def show(self, widget: Any) -> None:
        """Scroll so that this widget (a focused field) is in view."""
        if self.overflowing:
            self.view.scroll_to(widget, padding=self.theme.gap if self.theme else 10,
                                animate=False)


class QrCode(Widget):  # type: ignore[misc]
    """A QR code drawn from its modules (OpenCV's encoder), black on a white quiet zone,
    whatever the theme: phones read dark on light."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import cv2

        self.modules = cv2.QRCodeEncoder.create().encode(text)  # 255 white, 0 black, with margin
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_: object) -> None:
        from kivy.graphics import Rectangle

        self.canvas.clear()
        n = self.modules.shape[0]
        side = min(self.width, self.height)
        cell = side / n
        x0, y0 = self.center_x - side / 2, self.center_y - side / 2
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(pos=(x0, y0), size=(side, side))
            Color(0, 0, 0, 1)
            for row in range(n):
                for col in range(n):
                    if self.modules[row, col] == 0:
                        Rectangle(pos=(x0 + col * cell, y0 + (n - 1 - row) * cell),
                                  size=(cell, cell))


class CardIcon(Widget):  # type: ignore[misc]
    """An ID card on the reader with an arrow lifting it off: take your card."""

    theme = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, theme=self._draw)

    def _draw(self, *_: object) -> None:
        th: Theme | None = self.theme
        if th is None:
            return
        self.canvas.clear()
        s = min(self.width / 1.6, self.height)
        cx, cy = self.center
        w, h = s * 1.2, s * 0.7
        with self.canvas:
            Color(*th.warning_text)
            Line(rounded_rectangle=(cx - w / 2, cy - h / 2 - s * 0.1, w, h, 16), width=4)
            Line(points=[cx - w * 0.35, cy - h * 0.1 - s * 0.1, cx - w * 0.1,
                         cy - h * 0.1 - s * 0.1], width=4)
            Line(points=[cx + w * 0.05, cy - s * 0.1, cx + w * 0.35, cy - s * 0.1], width=4)
            Line(points=[cx + w * 0.05, cy - h * 0.25 - s * 0.1, cx + w * 0.3,
                         cy - h * 0.25 - s * 0.1], width=4)
            # the arrow: up and away
            Line(points=[cx, cy + h / 2 - s * 0.05, cx, cy + s * 0.5], width=5)
            Triangle(points=[cx - s * 0.1, cy + s * 0.38, cx + s * 0.1, cy + s * 0.38,
                             cx, cy + s * 0.52])


class ErrorText(Text):
    """An error under a field: warning words on the warning colour, with a ▲ before them (never
    colour alone); takes no room when there is nothing to say."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("tone", "warning")
        kwargs.setdefault("role", "small")
        super().__init__(**kwargs)
        with self.canvas.before:
            self._paint = Color(0, 0, 0, 0)
            self._box = RoundedRectangle(radius=[8])
        self.bind(pos=self._fill, size=self._fill, text=self._fill)

    def _restyle(self, *_: object) -> None:
        super()._restyle()
        self._fill()

    def _fill(self, *_: object) -> None:
        th: Theme | None = self.theme
        if th is None or not hasattr(self, "_paint"):
            return
        self.audit_bg = list(th.warning_bg) if self.text else None  # what it is drawn on
        self._paint.rgba = list(th.warning_bg) if self.text else [0, 0, 0, 0]
        self._box.pos, self._box.size = self.pos, self.size
        self.padding = [12, 6] if self.text else [0, 0]
