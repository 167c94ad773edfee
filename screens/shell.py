"""The frame of every screen (UI.md): top bar, offline banner, the screen, notices, the
inactivity countdown and the bottom bar. It owns navigation: state -> screen."""

from __future__ import annotations

import time
from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.config.catalogue import load_catalogue
from kiosk.config.profile import Profile
from kiosk.session import Notice, SessionView, State
from screens.base import KioskScreen, is_landscape, load_kv
from screens.collector import Collector
from screens.i18n import notice_text as words_for_notice
from screens.i18n import t
from screens.intents import Intents
from screens.keyboard import KioskKeyboard
from screens.pinyin import PinyinEngine
from screens.screens import SCREEN_CLASSES
from screens.staff.mode import StaffMode, StaffPort
from screens.steps import task_steps
from screens.theme import Theme
from screens.voice import HOME_CHOICES, VoiceGuide
from screens.widgets import BigButton, QrCode, Text, WarningIcon

NAVIGATION: dict[State, str] = {
    State.ATTRACT: "attract",
    State.OUT_OF_SERVICE: "out_of_service",
    State.HOME: "home",
    State.CHOOSE: "services",
    State.IDENTIFY: "identify",
    State.CONSENT: "consent",
    State.VERIFY: "identify",
    State.FILL: "form",
    State.CONFIRM: "confirm",
    State.SUBMITTING: "result",
    State.HANDOVER: "result",
    State.DONE: "result",
    State.RATE: "rate",
    State.GOODBYE: "goodbye",
}
NO_BACK = {State.ATTRACT, State.OUT_OF_SERVICE, State.GOODBYE, State.SUBMITTING,
           State.HANDOVER, State.DONE, State.RATE}
NO_HOME = NO_BACK | {State.HOME}
IDLE_GC_S = 1.0  # on the attract screen this long, nobody there: the garbage is collected


class Bar(BoxLayout):  # type: ignore[misc]
    bg = ListProperty([0, 0, 0, 0])


class Shell(BoxLayout):  # type: ignore[misc]
    theme = ObjectProperty(None)

    def __init__(self, profile: Profile, theme: Theme, intents: Intents,
                 voice: VoiceGuide | None = None, engine: PinyinEngine | None = None,
                 staff: StaffPort | None = None, **kwargs: Any) -> None:
        load_kv("shell")
        super().__init__(theme=theme, **kwargs)
        self.profile, self.intents, self.voice = profile, intents, voice
        if voice is not None:  # it reads what this terminal's home screen offers, and hours
            catalogue = load_catalogue()
            intents_here = {catalogue.get(s).intent.value for s in profile.services}
            voice.offered = tuple(i for i in HOME_CHOICES if i in intents_here)
            voice.extra = {"hours": profile.hours.staffed_hours, "hotline": profile.hours.hotline}
        self.view: SessionView | None = None
        # Full collections when nobody is waiting: a moment after the attract screen is up.
        self.collector = Collector(lambda fn: Clock.schedule_once(lambda _dt: fn(), IDLE_GC_S))
        th = theme
        # -- top bar: where am I, the time, language, elder mode, contrast, read aloud. One
        # grid: as many cells a row as fit (one row in landscape, two in portrait).
        self.top_bar = Bar(orientation="vertical", size_hint_y=None, padding=[th.pad, 8])
        self.top_grid = GridLayout(size_hint_y=None, spacing=th.gap)
        self.top_grid.bind(minimum_height=self.top_grid.setter("height"))
        info = BoxLayout(size_hint_y=None, spacing=th.gap)
        info.bind(minimum_height=info.setter("height"))
        if profile.branding.logo:
            info.add_widget(Image(source=profile.branding.logo, size_hint_y=None, height=60,
                                  fit_mode="contain"))
        self.hall = Text(theme=th, tone="on_primary", role="small")
        self.clock = Text(theme=th, tone="on_primary", role="small", bold=True,
                          halign="right", size_hint_x=None, width=dp(110))
        info.add_widget(self.hall)
        info.add_widget(self.clock)
        self.info = info
        self.lang_btn = BigButton(theme=th, kind="secondary", compact=True)
        self.elder_btn = BigButton(theme=th, kind="secondary", compact=True)
        self.contrast_btn = BigButton(theme=th, kind="secondary", compact=True)
        self.read_btn = BigButton(theme=th, kind="secondary", compact=True)
        self.lang_btn.bind(on_release=lambda *_: self._toggle("lang"))
        self.elder_btn.bind(on_release=lambda *_: self._toggle("elder"))
        self.contrast_btn.bind(on_release=lambda *_: self._toggle("contrast"))
        self.read_btn.bind(on_release=lambda *_: self._toggle("read"))
        # While the screen is read aloud: say it again, and the volume.
        self.repeat_btn = BigButton(theme=th, kind="secondary", compact=True)
        self.volume_btn = BigButton(theme=th, kind="secondary", compact=True)
        self.repeat_btn.bind(on_release=lambda *_: self._repeat())
        self.volume_btn.bind(on_release=lambda *_: self._next_volume())
        self._cells: list[Any] = []
        self.top_bar.add_widget(self.info)
        self.top_bar.add_widget(self.top_grid)
        self.top_bar.bind(minimum_height=self._top_height, width=lambda *_: self._lay_top())
        # -- offline banner: icon and words, never colour alone
        self.offline = self._banner()
        # -- where am I in the task: 身份核验 → 填写 → 确认 → 完成
        self.step_bar = Bar(size_hint_y=None, padding=[th.pad, 8])
        self.step_text = Text(theme=th, role="small", markup=True)
        self.step_bar.add_widget(self.step_text)
        self.step_text.bind(height=lambda _w, h: setattr(self.step_bar, "height", h + 16))
        # -- the screens
        # Screens are built (and their .kv loaded) the first time they are needed, as in
        # Kivy's showcase: the attract screen comes up without waiting for the others.
        self.manager = ScreenManager(transition=NoTransition())
        self.screens: dict[str, KioskScreen] = {}
        self.column = BoxLayout(orientation="vertical")  # everything but the top bar
        self.column.add_widget(self.manager)
        # -- the keyboard, docked under the screen while a field is typed into: it never
        # covers the countdown or Call staff
        self.keyboard = KioskKeyboard(theme, engine)
        self.keyboard.bind(field=lambda *_: self._rearrange(),
                           on_done=lambda *_: self.keyboard.detach())
        self._arranged = (False, False, False, False)
        # -- notice and countdown, shown when there is something to say
        self.notice = self._banner()
        self.countdown = Bar(size_hint_y=None, padding=[th.pad, 8], spacing=th.gap)
        self.countdown_text = Text(theme=th, tone="warning")
        self.more_time = BigButton(theme=th, kind="primary", size_hint_x=0.45)
        self.more_time.bind(on_release=lambda *_: self.intents.extend_time())
        self.countdown.add_widget(self.countdown_text)
        self.countdown.add_widget(self.more_time)
        # -- bottom bar: Back (left), Home (centre), Call staff (right), always in place
        self.bottom = Bar(size_hint_y=None, padding=[th.pad, 8], spacing=th.gap)
        self.back_btn = BigButton(theme=th, kind="secondary")
        self.home_btn = BigButton(theme=th, kind="secondary")
        self.staff_btn = BigButton(theme=th, kind="staff")
        self.back_btn.bind(on_release=lambda *_: self.intents.back())
        self.home_btn.bind(on_release=lambda *_: self.intents.go_home())
        self.staff_btn.bind(on_release=lambda *_: self.intents.call_staff())
        for b in (self.back_btn, self.home_btn, self.staff_btn):
            self.bottom.add_widget(b)
        self.column.add_widget(self.bottom)
        self.add_widget(self.top_bar)
        self.add_widget(self.column)
        theme.bind(high_contrast=self._recolour, primary=self._recolour,
                   target_h=self._resize_bars, elder=lambda *_: self._lay_top())
        self._recolour()
        self._resize_bars()
        self._clock_event = Clock.schedule_interval(lambda _dt: self._update_clock(), 1)
        self._update_clock()
        self.staff = StaffMode(self, staff)  # the hidden entry, sign-in and console

    def on_touch_down(self, touch: Any) -> bool:
        self.staff.touch_down(touch)
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: Any) -> bool:
        self.staff.touch_up(touch)
        return bool(super().on_touch_up(touch))

    def staff_frame(self, on: bool) -> None:
        """Staff screens: the session's Back, Home and Call staff are not theirs."""
        for button in (self.back_btn, self.home_btn, self.staff_btn):
            button.opacity = 0 if on else 1
            button.disabled = on

    def _banner(self) -> Bar:
        th = self.theme
        bar = Bar(size_hint_y=None, padding=[th.pad, 8], spacing=th.gap)
        bar.icon = WarningIcon(size_hint=(None, None), size=(64, 64))
        bar.text = Text(theme=th, tone="warning", role="small")
        bar.qr = None  # the notice's code to continue on the phone, when there is one
        bar.add_widget(bar.icon)
        bar.add_widget(bar.text)
        bar.bind(minimum_height=bar.setter("height"))
        return bar

    def _recolour(self, *_: object) -> None:
        th = self.theme
        self.top_bar.bg = th.primary
        self.bottom.bg = th.surface
        for bar in (self.offline, self.notice, self.countdown):
            bar.bg = th.warning_bg
        self.step_bar.bg = th.surface
        for bar in (self.offline, self.notice):
            bar.icon.colour = th.warning_text

    def _screen(self, name: str) -> KioskScreen:
        if name not in self.screens:
            screen = SCREEN_CLASSES[name](name=name, theme=self.theme, intents=self.intents,
                                          profile=self.profile, keyboard=self.keyboard)
            self.screens[name] = screen
            self.manager.add_widget(screen)
        return self.screens[name]

    def _resize_bars(self, *_: object) -> None:
        h = self.theme.target_h
        self.countdown.height = h + 16
        self.bottom.height = h + 16

    def _lay_top(self, voice: bool | None = None) -> None:
        """Portrait: the top bar across, its switches as many a row as fit. Landscape has
        width to spare and no height: the bar is a column down the left side instead."""
        if voice is None:
            voice = self.repeat_btn in self._cells
        cells = [self.lang_btn, self.elder_btn, self.contrast_btn, self.read_btn,
                 *([self.repeat_btn, self.volume_btn] if voice else [])]
        th = self.theme
        wide = is_landscape()
        self.orientation = "horizontal" if wide else "vertical"
        self.top_bar.size_hint = (None, 1) if wide else (1, None)
        if wide:
            self.top_bar.width = dp(440 if th.elder else 360)
        self.top_bar.padding = [dp(16), 8] if wide else [th.pad, 8]
        self.top_bar.spacing = th.gap / 2 if wide else 4
        self.info.orientation = "vertical" if wide else "horizontal"
        self.clock.halign = "left" if wide else "right"
        self.clock.size_hint_x = 1 if wide else None
        if wide:  # two switches a row: six of them stacked would not fit the height
            self.top_grid.cols = 2
            self.top_grid.spacing = dp(16)
        else:
            least = dp(250 if th.elder else 200)
            room = self.top_bar.width - 2 * th.pad + th.gap
            self.top_grid.spacing = th.gap
            self.top_grid.cols = max(1, min(len(cells), int(room // (least + th.gap))))
        if cells != self._cells:
            self.top_grid.clear_widgets()
            for cell in cells:
                self.top_grid.add_widget(cell)
            self._cells = cells

    def _rearrange(self) -> None:
        self._arrange(*self._arranged)

    def _top_height(self, *_: object) -> None:
        if self.top_bar.size_hint_y is None:
            self.top_bar.height = self.top_bar.minimum_height

    def _phone_code(self, url: str | bool | None) -> None:
        shown = self.notice.qr
        if url and shown is None:
            side = dp(160 if self.width > self.height else 200)
            self.notice.qr = QrCode(str(url), size_hint=(None, None), size=(side, side))
            self.notice.add_widget(self.notice.qr)
        elif not url and shown is not None:
            self.notice.remove_widget(shown)
            self.notice.qr = None

    def _update_clock(self) -> None:
        self.clock.text = time.strftime("%H:%M")

    def _repeat(self) -> None:
        if self.voice is not None:
            self.voice.repeat()

    def _next_volume(self) -> None:
        if self.voice is not None:
            self.voice.next_volume()
            if self.view is not None:
                self._label_voice(self.view.language)

    def _label_voice(self, lang: str) -> None:
        level = t(lang, f"volume.{self.voice.volume if self.voice else 'medium'}")
        self.repeat_btn.title = t(lang, "frame.repeat")
        self.volume_btn.title = f"{t(lang, 'frame.volume')} {level}"

    def _label_bottom(self, view: SessionView, lang: str) -> None:
        self.back_btn.title = t(lang, "frame.back")
        self.home_btn.title = t(lang, "frame.home")
        # Only while staff are on duty does a call bring someone; out of hours, the hotline.
        called = "frame.staff_hotline" if view.staff_when == "after_hours" \
            else "frame.staff_called"
        self.staff_btn.title = t(lang, called if view.staff_called else "frame.call_staff",
                                 hotline=self.profile.hours.hotline)

    def _toggle(self, what: str) -> None:
        v = self.view
        if v is None:
            return
        if what == "lang":
            self.intents.set_language("en" if v.language == "zh" else "zh")
        elif what == "elder":
            self.intents.set_elder(not v.elder)
        elif what == "read":
            self.intents.set_read_aloud(not v.read_aloud)
        else:
            self.intents.set_high_contrast(not v.high_contrast)

    def _arrange(self, offline: bool, notice: bool, countdown: bool, steps: bool) -> None:
        """The top bar (a side column in landscape), then top to bottom: offline banner,
        notice, steps, screen, countdown, bottom bar."""
        self._lay_top()
        self._arranged = (offline, notice, countdown, steps)
        typing = self.keyboard.field is not None
        wanted = [*([self.offline] if offline else []), *([self.notice] if notice else []),
                  *([self.step_bar] if steps else []), self.manager,
                  *([self.keyboard] if typing else []),
                  *([self.countdown] if countdown else []), self.bottom]
        if list(reversed(self.column.children)) != wanted:
            self.column.clear_widgets()
            for w in wanted:
                self.column.add_widget(w)
        if list(reversed(self.children)) != [self.top_bar, self.column]:
            self.clear_widgets()
            self.add_widget(self.top_bar)
            self.add_widget(self.column)

    def show(self, view: SessionView) -> None:
        """Draw a session view: the frame here, the rest by the current screen."""
        self.view = view
        self.staff.on_view(view)
        self.collector.on_state(view.state in (State.ATTRACT, State.OUT_OF_SERVICE))
        lang = view.language
        if (self.theme.elder, self.theme.high_contrast) != (view.elder, view.high_contrast):
            self.theme.apply(elder=view.elder, high_contrast=view.high_contrast)
        self.hall.text = self.profile.terminal.name.get(lang)
        self.lang_btn.title = t(lang, "frame.other_language")
        for button, key, on in ((self.elder_btn, "frame.elder", view.elder),
                                (self.contrast_btn, "frame.high_contrast", view.high_contrast),
                                (self.read_btn, "frame.read_aloud", view.read_aloud)):
            # A tick says the state too: never colour alone.
            button.title = ("✓ " if on else "") + t(lang, key)
            button.kind = "switched_on" if on else "secondary"
        self.offline.text.text = t(lang, "frame.offline")
        self._lay_top(voice=view.read_aloud)
        self._label_voice(lang)
        notice = view.notice if view.state is not State.GOODBYE else None
        hours = self.profile.hours
        if view.assisted_by and (notice is None or notice.key == "staff_called"):
            notice = Notice("staff_assisting", (("staff", view.assisted_by),))
        elif view.staff_called and (notice is None or notice.key == "staff_called"):
            notice = notice or Notice("staff_called", (("when", view.staff_when),))
        notice_text = "" if notice is None else words_for_notice(
            lang, notice, hours=hours.staffed_hours, hotline=hours.hotline)
        self.notice.text.text = notice_text
        # Out of hours, a code to continue on the phone (when the profile has where).
        self._phone_code(notice is not None and notice.param("when") == "after_hours"
                         and hours.continue_url)
        counting = view.countdown_s is not None
        if counting:
            assert view.countdown_s is not None
            self.countdown_text.text = t(lang, "frame.countdown",
                                         seconds=int(view.countdown_s + 0.999))
            self.more_time.title = t(lang, "frame.more_time" if view.extensions_left
                                     else "frame.no_more_time")
            self.more_time.kind = "primary" if view.extensions_left else "disabled"
            self.more_time.disabled = not view.extensions_left
        steps = task_steps(view)
        if steps:
            names, at = steps
            marked = [f"[b]▶ {t(lang, f'step.{n}')}[/b]" if i == at else t(lang, f"step.{n}")
                      for i, n in enumerate(names)]
            where = t(lang, "step.of", at=at + 1, count=len(names))
            self.step_text.text = where + "   " + "  →  ".join(marked)
        self._arrange(view.offline, bool(notice_text), counting, bool(steps))
        # The keyboard goes with the screen it types on (and with the session: its letters
        # still composing are the citizen's).
        self.keyboard.lang = lang
        if self.staff.showing is not None:  # staff screens stay over the session's
            self._label_bottom(view, lang)
            self.staff_frame(True)
            return
        for name, typing in (("form", view.state is State.FILL),
                             ("identify", view.passport_details)):
            screen = self.screens.get(name)
            if screen is not None and not typing:
                screen.release_keyboard()
        if not (view.state is State.FILL or view.passport_details):
            self.keyboard.detach()
        self._label_bottom(view, lang)
        self.back_btn.opacity = 0 if view.state in NO_BACK else 1
        self.back_btn.disabled = view.state in NO_BACK
        self.home_btn.opacity = 0 if view.state in NO_HOME else 1
        self.home_btn.disabled = view.state in NO_HOME
        # A card left in a reader is called out over whatever comes after the session.
        name = "goodbye" if view.card_left else NAVIGATION[view.state]
        if view.state in (State.RATE, State.GOODBYE, State.ATTRACT, State.OUT_OF_SERVICE):
            for other, screen in self.screens.items():
                if other != name and screen._drawn is not None:
                    screen.wipe()
        screen = self._screen(name)
        screen.show(view)
        if self.manager.current != name:
            self.manager.current = name
        if self.voice is not None:
            self.voice.on_view(view)
