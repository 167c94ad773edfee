"""The citizen's on-screen keyboard: Chinese by pinyin with candidates, Latin letters, digits.

The shell docks it inside the frame, between the screen and the bottom bar, so it can never
cover Call staff (Kivy's docked VKeyboard lay over the bottom bar, typed Latin letters only,
and its keys were about 60 px tall and grey).

Every key is a touch target of UI.md's sizes: at least 96 dp wide and `theme.target_h` high
(128 dp and more in elder mode), 16 dp from the next key. A QWERTY row has ten keys, which
needs 10 x 96 + 9 x 16 = 1104 dp: more than a 1080 px portrait panel. So the letters are in
QWERTY rows when ten columns fit (a 1920 px landscape panel), and otherwise in alphabetical
order in as many columns as fit (nine on 1080 px: a-i, j-r, s-z), which is also the order an
elder who never used a keyboard looks for. Digits are a phone keypad of three large columns.

Keystrokes go into the attached TextInput with `insert_text` and `do_backspace`, as if typed,
so the field's own bindings and input filter apply. In pinyin mode letters compose first:
they are shown above the candidates, cut into syllables, and go in as characters when a
candidate is tapped (the letters it used are done with, the rest keep composing). Space puts
in the first candidate shown, Done every candidate still pending (the first each time) and
then fires `on_done`; switching to Latin letters or digits puts the letters in as typed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty, OptionProperty, StringProperty
from kivy.uix.behaviors import FocusBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from screens.i18n import t
from screens.pinyin import Composer, PinyinEngine
from screens.theme import Theme
from screens.widgets import BigButton, Text

KEY_MIN: float = dp(96)
KEY_GAP: float = dp(16)
QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
KEYPAD = ("123", "456", "789")
MODES = ("pinyin", "latin", "digits")
# Symbols, not words: they need no language, and wqy-microhei has them (checked).
PREVIOUS, NEXT, CAPS = "◀", "▶", "⇧"
MOST_CANDIDATES = 9
CORNER_SEGMENTS = 8  # of a key's outline; Kivy's 30 cost more than the rest of a frame
# From this many columns on, the controls go to the right of the letters (landscape).
WIDE_COLUMNS = 13
KEYPAD_MOST: float = dp(340)  # a keypad key wider than this only makes the eye travel further
Spec = tuple[str, Callable[[], None], str]  # a key's title, what it does, its kind


def columns_for(width: float) -> int:
    """How many keys of the smallest width fit side by side in `width`."""
    return max(1, int((width + KEY_GAP) // (KEY_MIN + KEY_GAP)))


def letter_rows(columns: int) -> list[str]:
    if columns >= len(QWERTY[0]):
        return list(QWERTY)
    return [ALPHABET[i:i + columns] for i in range(0, len(ALPHABET), columns)]


def spread(least: list[float], width: float, grow: int | None = None) -> list[float]:
    """Widths for keys side by side, KEY_GAP apart, each at least its `least`: what is left
    goes to the `grow`th key (the space bar), or to all alike."""
    room = width - KEY_GAP * (len(least) - 1)
    extra = room - sum(least)
    if extra < 0:  # cannot happen with UI.md's sizes; labels then wrap rather than clip
        return [w * room / sum(least) for w in least]
    if grow is None:
        return [w + extra / len(least) for w in least]
    return [w + (extra if i == grow else 0) for i, w in enumerate(least)]


class _Gap(Widget):  # type: ignore[misc]
    """Where a key would be: alphabetical rows keep their columns under each other."""

    def __init__(self, width: float) -> None:
        super().__init__(size_hint=(None, None), width=width, height=1)


class StatusLine(Text):
    """The letters composing, or what the keyboard is for: one line, as wide as its words.

    Not as wide as the keyboard: in software GL (Mesa, as offscreen here) re-filling a
    texture that the last frame drew takes 0.1-0.2 s a keystroke for a full-width one (and
    Kivy's `shorten` as much again); a texture of a new size is made afresh in no time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(size_hint_x=None, **kwargs)
        self.bind(texture_size=self._follow)

    def _wrap(self, *_: object) -> None:
        self.text_size = (None, None)

    def _follow(self, *_: object) -> None:
        self.width = self.texture_size[0]


class Key(BigButton):
    """A key: a BigButton edged in the text colour, which the profile checks against the
    background the keyboard stands on (a white key face alone barely shows on a pale one).

    That edge replaces BigButton's own, and has fewer segments per corner: forty keys with
    two smooth outlines each doubled the time of a frame in software GL (Mesa, offscreen)."""

    _outline: Line | None = None
    glyph = BooleanProperty(False)
    """One letter or digit: drawn as large as the key allows, up to the title size."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.canvas.before.remove(self._edge)
        self.canvas.before.remove(self._edge_colour)
        with self.canvas.after:
            self._outline_colour = Color(0, 0, 0, 0)
            self._outline = Line(width=2)
        self.bind(pos=self._draw_outline, size=self._draw_outline)
        self._draw_outline()

    def _restyle(self, *_: object) -> None:
        super()._restyle()
        th: Theme | None = self.theme
        if self.glyph and th is not None:
            # BigButton keeps `gap` inside each edge; a glyph is at most one em wide.
            self._title.font_size = max(th.font_body, min(th.font_title, self.width - 2 * th.gap))
        self._draw_outline()

    def _draw_outline(self, *_: object) -> None:
        th: Theme | None = self.theme
        if self._outline is None or th is None:
            return
        self._outline_colour.rgba = list(th.text)
        self._outline.rounded_rectangle = (self.x, self.y, self.width, self.height,
                                           th.radius, CORNER_SEGMENTS)


def label_width(text: str, font_size: float) -> float:
    from kivy.core.text import Label as CoreLabel

    return float(CoreLabel(font_size=font_size).get_extents(text)[0])


class KioskKeyboard(BoxLayout):  # type: ignore[misc]
    """The keyboard; `attach(field)` to type into a TextInput, `detach()` to stop. Fires
    `on_done` when the citizen taps Done. Its height follows its rows (`minimum_height`)."""

    field = ObjectProperty(None, allownone=True)
    """The TextInput typed into, None while detached."""
    mode = OptionProperty("pinyin", options=list(MODES))
    lang = StringProperty("zh")
    """Language of the keys' words (zh, en)."""
    caps = BooleanProperty(False)
    """Latin letters go in as capitals."""
    __events__ = ("on_done",)

    def __init__(self, theme: Theme, engine: PinyinEngine | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.theme = theme
        self.size_hint_y = None
        self.composer = Composer(engine or PinyinEngine(), MOST_CANDIDATES,
                                 measure=self._candidate_room)
        self._letters_mode = "pinyin"  # where the digits' switch key goes back to
        self._status: Text | None = None
        self._candidates: BoxLayout | None = None
        self._pool: list[Key] = []
        self._candidate_bar: BoxLayout | None = None
        self._blocks: dict[tuple[str, bool, str], list[Widget]] = {}
        self._previous: Key | None = None
        self._next: Key | None = None
        with self.canvas.before:
            self._tray_colour = Color(0, 0, 0, 0)
            self._tray = Rectangle()
            self._rule_colour = Color(0, 0, 0, 0)
            self._rule = Line(width=dp(1.5))
        self.bind(minimum_height=self.setter("height"), pos=self._draw_tray,
                  size=self._draw_tray)
        self._trigger_build = Clock.create_trigger(self._build, -1)
        self._trigger_place = Clock.create_trigger(self._place, -1)
        self.bind(width=self._trigger_build, lang=self._trigger_build,
                  mode=self._trigger_place, caps=self._trigger_place)
        theme.bind(elder=self._trigger_build, high_contrast=self._trigger_build,
                   target_h=self._trigger_build)
        self._trigger_build()

    # -- the field

    def attach(self, field: TextInput, mode: str = "pinyin") -> None:
        """Type into `field` from now on, in `mode` (pinyin, latin or digits)."""
        if mode not in MODES:
            raise ValueError(f"unknown keyboard mode {mode!r}; one of {', '.join(MODES)}")
        if self.field is not None and self.field is not field:
            self.detach()
        self.composer.clear()
        self.caps = False
        if mode != "digits":
            self._letters_mode = mode
        self.mode = mode
        self.field = field
        field.focus = True  # the cursor shows where the letters go
        self._show_composition()

    def detach(self) -> None:
        """Stop typing into the field; letters still composing are dropped."""
        field = self.field
        self.composer.clear()
        self.field = None
        if field is not None:
            field.focus = False
        self._show_composition()

    def on_done(self) -> None:
        """The citizen tapped Done (what was composing is in the field by now)."""

    # -- what the keys do

    def _insert(self, text: str) -> None:
        field = self.field
        if field is None or not text:
            return
        if field.selection_text:
            field.delete_selection()
        field.insert_text(text)

    def _letter(self, letter: str) -> None:
        if self.field is None:
            return
        if self.mode == "pinyin":
            self.composer.type(letter)
            self._show_composition()
        else:
            self._insert(letter.upper() if self.caps else letter)

    def _choose(self, index: int) -> None:
        if index < len(self.composer.page):
            self._insert(self.composer.choose(index))
        self._show_composition()

    def _space(self) -> None:
        composer = self.composer
        if self.mode == "pinyin" and composer.composing:
            self._insert(composer.choose(0) if composer.page else composer.take_letters())
            self._show_composition()
        else:
            self._insert(" ")

    def _backspace(self) -> None:
        if self.mode == "pinyin" and self.composer.backspace():
            self._show_composition()
            return
        field = self.field
        if field is None:
            return
        if field.selection_text:
            field.delete_selection()
        else:
            field.do_backspace()

    def _done(self) -> None:
        if self.composer.composing:
            self._insert(self.composer.finish())
            self._show_composition()
        self.dispatch("on_done")

    def _switch(self, mode: str) -> None:
        if self.mode == "pinyin" and self.composer.composing:
            self._insert(self.composer.take_letters())
        if mode != "digits":
            self._letters_mode = mode
        self.mode = mode
        self._show_composition()

    def _page(self, forward: bool) -> None:
        if forward:
            self.composer.next_page()
        else:
            self.composer.previous_page()
        self._show_composition()

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        # A tap on the keyboard must not take the focus from the field it types into.
        FocusBehavior.ignored_touch.append(touch)
        super().on_touch_down(touch)
        return True

    # -- layout

    def _key(self, title: str, action: Callable[[], None], width: float,
             kind: str = "secondary") -> Key:
        key = Key(theme=self.theme, title=title, kind=kind, size_hint_x=None, width=width,
                  glyph=len(title) == 1 and title.isascii())
        key.bind(on_release=lambda *_: action())
        return key

    def _row(self, keys: list[Widget], width: float | None = None) -> BoxLayout:
        """Keys side by side, centred in `width` (the keyboard's own when None)."""
        room = self.width - 2 * KEY_GAP if width is None else width
        row = BoxLayout(size_hint=(1 if width is None else None, None), width=room,
                        height=self.theme.target_h, spacing=KEY_GAP)
        used = sum(k.width for k in keys) + KEY_GAP * max(0, len(keys) - 1)
        row.padding = [max(0.0, (room - used) / 2), 0, 0, 0]
        for key in keys:
            row.add_widget(key)
        return row

    def _least(self, title: str) -> float:
        """The narrowest key that shows `title` on one line."""
        th = self.theme
        return float(max(KEY_MIN, label_width(title, th.font_body) + 2 * th.gap + dp(8)))

    def _build(self, *_: object) -> None:
        """Everything anew: the width, the words or the theme's sizes changed."""
        self.clear_widgets()
        self._status = self._candidates = self._previous = self._next = None
        self._candidate_bar = None
        self._pool, self._blocks = [], {}
        room = self.width - 2 * KEY_GAP
        if room < 3 * KEY_MIN + 2 * KEY_GAP:
            return  # not laid out yet: the first layout brings the real width
        self.padding = [KEY_GAP, KEY_GAP, KEY_GAP, KEY_GAP]
        self.spacing = KEY_GAP
        self._status = StatusLine(theme=self.theme, role="small")
        self._candidate_bar = self._candidate_row(room)
        self._place()

    def _place(self, *_: object) -> None:
        """The rows of the mode. Each mode's keys are made once (per width, language and
        theme) and kept: in software GL forty new keys take about half a second to draw."""
        if self._status is None or self._candidate_bar is None:
            return
        self.clear_widgets()
        self.add_widget(self._status)
        if self.mode == "pinyin":
            self.add_widget(self._candidate_bar)
        which = (self.mode, self.caps and self.mode == "latin", self._letters_mode)
        if which not in self._blocks:
            room = self.width - 2 * KEY_GAP
            wide = columns_for(room) >= WIDE_COLUMNS
            self._blocks[which] = self._wide_rows(room) if wide else self._narrow_rows(room)
        for row in self._blocks[which]:
            self.add_widget(row)
        self._draw_tray()
        self._show_composition()

    def _candidate_row(self, room: float) -> BoxLayout:
        nav = max(self._least(PREVIOUS), self._least(NEXT))
        self._previous = self._key(PREVIOUS, lambda: self._page(False), nav)
        self._next = self._key(NEXT, lambda: self._page(True), nav)
        row = BoxLayout(size_hint_y=None, height=self.theme.target_h, spacing=KEY_GAP)
        self._candidates = BoxLayout(spacing=KEY_GAP)
        for widget in (self._candidates, self._previous, self._next):
            row.add_widget(widget)
        self.composer.page_width = room - 2 * (nav + KEY_GAP) + KEY_GAP
        self.composer.first_page()
        return row

    def _letters(self, room: float) -> list[list[Widget]]:
        """The letter keys, row by row, as many columns as fit in `room`."""
        rows = letter_rows(columns_for(room))
        columns = max(len(r) for r in rows)
        width = (room - KEY_GAP * (columns - 1)) / columns
        latin = self.mode == "latin"
        keys: list[list[Widget]] = [
            [self._key(c.upper() if latin and self.caps else c, partial(self._letter, c),
                       width) for c in letters]
            for letters in rows]
        if latin:
            caps = self._key(CAPS, self._toggle_caps, width,
                             "switched_on" if self.caps else "secondary")
            if rows == list(QWERTY):
                keys[-1].insert(0, caps)  # where Shift is on a QWERTY keyboard
            elif len(keys[-1]) < columns:
                keys[-1].append(caps)
            else:
                keys.append([caps])
        if rows != list(QWERTY):
            for row in keys:  # alphabetical rows start at the left edge, like a text
                row += [_Gap(width) for _ in range(columns - len(row))]  # one widget each
        return keys

    def _digits(self, room: float) -> list[list[Widget]]:
        """A phone keypad, 1 2 3 at the top (0 goes under 8)."""
        width = min(KEYPAD_MOST, (room - 2 * KEY_GAP) / 3)
        return [[self._key(d, partial(self._insert, d), width) for d in digits]
                for digits in KEYPAD]

    def _words(self, key: str) -> str:
        return t(self.lang, f"keyboard.{key}")

    def _switch_keys(self) -> list[Spec]:
        """To the other letters and to digits; from digits, back to the letters."""
        if self.mode == "digits":
            back = self._letters_mode
            return [(self._words(f"to_{back}"), lambda: self._switch(back), "secondary")]
        other = "latin" if self.mode == "pinyin" else "pinyin"
        return [(self._words(f"to_{other}"), lambda: self._switch(other), "secondary"),
                (self._words("to_digits"), lambda: self._switch("digits"), "secondary")]

    def _narrow_rows(self, room: float) -> list[Widget]:
        """Portrait: the letters or keypad, then a row of controls under them."""
        delete: Spec = (self._words("backspace"), self._backspace, "secondary")
        done: Spec = (self._words("done"), self._done, "primary")
        if self.mode == "digits":
            keys = self._digits(room)
            width = keys[0][0].width
            zero: Spec = ("0", lambda: self._insert("0"), "secondary")
            keys.append([self._key(title, action, width, kind)
                         for title, action, kind in (*self._switch_keys(), zero, delete)])
            keys.append([self._key(done[0], done[1], room, done[2])])
            return [self._row(row) for row in keys]
        space: Spec = (self._words("space"), self._space, "secondary")
        specs = [*self._switch_keys(), space, delete, done]
        widths = spread([self._least(s[0]) for s in specs], room, grow=len(specs) - 3)
        controls: list[Widget] = [self._key(s[0], s[1], w, s[2])
                                  for s, w in zip(specs, widths, strict=True)]
        return [self._row(row) for row in [*self._letters(room), controls]]

    def _wide_rows(self, room: float) -> list[Widget]:
        """Landscape: the controls stand at the right of the letters, a row less in height
        (a 1080 px high panel has little height to spare under its top and bottom bars)."""
        delete: Spec = (self._words("backspace"), self._backspace, "secondary")
        done: Spec = (self._words("done"), self._done, "primary")
        space: Spec = (self._words("space"), self._space, "secondary")
        if self.mode == "digits":
            side: list[list[Spec]] = [[delete], self._switch_keys(), [done]]
        else:
            side = [[delete], self._switch_keys(), [space, done]]
        block = max(sum(self._least(s[0]) for s in specs) + KEY_GAP * (len(specs) - 1)
                    for specs in side)
        left = room - block - KEY_GAP
        if self.mode == "digits":
            keys = self._digits(left)
            keys.append([self._key("0", lambda: self._insert("0"), keys[0][0].width)])
        else:
            keys = self._letters(left)
        rows: list[Widget] = []
        for n in range(max(len(keys), len(side))):
            row = BoxLayout(size_hint_y=None, height=self.theme.target_h, spacing=KEY_GAP)
            row.add_widget(self._row(keys[n] if n < len(keys) else [], left))
            specs = side[n] if n < len(side) else []
            widths = spread([self._least(s[0]) for s in specs], block) if specs else []
            row.add_widget(self._row([self._key(s[0], s[1], w, s[2])
                                      for s, w in zip(specs, widths, strict=True)], block))
            rows.append(row)
        return rows

    def _toggle_caps(self) -> None:
        self.caps = not self.caps

    def _draw_tray(self, *_: object) -> None:
        th = self.theme
        self._tray_colour.rgba = list(th.background)
        self._tray.pos, self._tray.size = self.pos, self.size
        self._rule_colour.rgba = list(th.muted)
        # Not self.top: that alias is cached and lags behind a size event by one.
        top = self.y + self.height
        self._rule.points = [self.x, top, self.x + self.width, top]

    # -- the composition on screen

    def _candidate_width(self, text: str) -> float:
        th = self.theme
        # A Chinese character is one em wide; the margin keeps the title on one line.
        return float(max(KEY_MIN, len(text) * th.font_body + 2 * th.gap + dp(8)))

    def _candidate_room(self, text: str) -> float:
        return self._candidate_width(text) + KEY_GAP

    def _show_composition(self) -> None:
        composer, lang = self.composer, self.lang
        if self._status is not None:
            if self.mode == "pinyin" and composer.composing:
                words = composer.preedit
                # The end is where the citizen types: a long composition shows its tail.
                most = int((self.width - 2 * KEY_GAP) / (self.theme.font_small * 0.6))
                if len(words) > most // 2 and not composer.candidates:
                    words = "…" + words[-(most // 2):]
                elif len(words) > most:
                    words = "…" + words[-most:]
                if not composer.candidates:
                    words = t(lang, "keyboard.no_candidates", letters=words)
            else:
                words = t(lang, f"keyboard.hint_{self.mode}")
            self._status.text = words
        area = self._candidates
        if area is None:
            return
        area.clear_widgets()
        page = composer.page if self.mode == "pinyin" else []
        while len(self._pool) < len(page):
            i = len(self._pool)
            self._pool.append(self._key("", partial(self._choose, i), KEY_MIN))
        for i, candidate in enumerate(page):
            key = self._pool[i]
            key.title = candidate.text
            key.width = self._candidate_width(candidate.text)
            key.kind = "primary" if i == 0 else "secondary"  # what Space puts in
            area.add_widget(key)
        for nav, usable in ((self._previous, composer.has_previous_page),
                            (self._next, composer.has_next_page)):
            if nav is not None:
                nav.disabled = not usable
                nav.kind = "secondary" if usable else "disabled"


def install() -> None:
    """Kivy's own docked keyboard never comes up: text is typed on KioskKeyboard, docked by
    the shell. A window not made yet reads the mode from the config; one already made (the
    app imports Kivy's window before this) is switched to it now. A physical keyboard, where
    there is one (a developer's desk), still types into a focused field."""
    from kivy.config import Config

    Config.set("kivy", "keyboard_mode", "system")
    from kivy.core.window import Window

    if Window is None or not Window.allow_vkeyboard:
        return
    Window.release_all_keyboards()
    # What Window.configure_keyboards sets for keyboard_mode = "system".
    Window.use_syskeyboard = True
    Window.allow_vkeyboard = False
    Window.single_vkeyboard = True
    Window.docked_vkeyboard = False
