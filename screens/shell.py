"""The frame of every screen (UI.md): top bar, offline banner, the screen, notices, the
inactivity countdown and the bottom bar. It owns navigation: state -> screen."""

from __future__ import annotations

import time
from typing import Any

from kivy.clock import Clock
from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.config.profile import Profile
from kiosk.session import SessionView, State
from screens.base import KioskScreen, load_kv
from screens.i18n import notice_text as words_for_notice
from screens.i18n import t
from screens.intents import Intents
from screens.screens import SCREEN_CLASSES
from screens.theme import Theme
from screens.voice import VoiceGuide
from screens.widgets import BigButton, Text, WarningIcon

NAVIGATION: dict[State, str] = {
    State.ATTRACT: "attract",
    State.OUT_OF_SERVICE: "out_of_service",
    State.HOME: "home",
    State.CHOOSE: "services",
    State.IDENTIFY: "identify",
    State.VERIFY: "identify",
    State.FILL: "form",
    State.CONFIRM: "confirm",
    State.SUBMITTING: "result",
    State.HANDOVER: "result",
    State.DONE: "result",
    State.GOODBYE: "goodbye",
}
NO_BACK = {State.ATTRACT, State.OUT_OF_SERVICE, State.GOODBYE, State.SUBMITTING,
           State.HANDOVER, State.DONE}
NO_HOME = NO_BACK | {State.HOME}


class Bar(BoxLayout):  # type: ignore[misc]
    bg = ListProperty([0, 0, 0, 0])


class Shell(BoxLayout):  # type: ignore[misc]
    theme = ObjectProperty(None)

    def __init__(self, profile: Profile, theme: Theme, intents: Intents,
                 voice: VoiceGuide | None = None, **kwargs: Any) -> None:
        load_kv("shell")
        super().__init__(theme=theme, **kwargs)
        self.profile, self.intents, self.voice = profile, intents, voice
        self.view: SessionView | None = None
        th = theme
        # -- top bar: where am I, the time, language, elder mode, contrast
        self.top_bar = Bar(orientation="vertical", size_hint_y=None, padding=[th.pad, 12],
                           spacing=8)
        row = BoxLayout(size_hint_y=None, spacing=th.gap)
        if profile.branding.logo:
            row.add_widget(Image(source=profile.branding.logo, size_hint_x=None, width=120,
                                 fit_mode="contain"))
        self.hall = Text(theme=th, tone="on_primary", role="small")
        self.clock = Text(theme=th, tone="on_primary", role="body", halign="right",
                          size_hint_x=None, width=150)
        row.add_widget(self.hall)
        row.add_widget(self.clock)
        self.hall.bind(height=lambda *_: setattr(row, "height", max(self.hall.height, 60)))
        toggles = BoxLayout(size_hint_y=None, spacing=th.gap)
        self.lang_btn = BigButton(theme=th, kind="secondary")
        self.elder_btn = BigButton(theme=th, kind="secondary")
        self.contrast_btn = BigButton(theme=th, kind="secondary")
        self.toggles = toggles
        for b in (self.lang_btn, self.elder_btn, self.contrast_btn):
            toggles.add_widget(b)
        self.lang_btn.bind(on_release=lambda *_: self._toggle("lang"))
        self.elder_btn.bind(on_release=lambda *_: self._toggle("elder"))
        self.contrast_btn.bind(on_release=lambda *_: self._toggle("contrast"))
        # Voice controls, shown while voice guidance is on (elder mode).
        self.voice_row = BoxLayout(size_hint_y=None, spacing=th.gap)
        self.repeat_btn = BigButton(theme=th, kind="secondary")
        self.volume_btn = BigButton(theme=th, kind="secondary")
        self.repeat_btn.bind(on_release=lambda *_: self._repeat())
        self.volume_btn.bind(on_release=lambda *_: self._next_volume())
        self.voice_row.add_widget(self.repeat_btn)
        self.voice_row.add_widget(self.volume_btn)
        self.top_bar.add_widget(row)
        self.top_bar.add_widget(toggles)
        self.top_bar.bind(minimum_height=self.top_bar.setter("height"))
        self.add_widget(self.top_bar)
        # -- offline banner: icon and words, never colour alone
        self.offline = self._banner()
        # -- the screens
        # Screens are built (and their .kv loaded) the first time they are needed, as in
        # Kivy's showcase: the attract screen comes up without waiting for the others.
        self.manager = ScreenManager(transition=NoTransition())
        self.screens: dict[str, KioskScreen] = {}
        self.add_widget(self.manager)
        # -- notice and countdown, shown when there is something to say
        self.notice = self._banner()
        self.countdown = Bar(size_hint_y=None, padding=[th.pad, 12], spacing=th.gap)
        self.countdown_text = Text(theme=th, tone="warning")
        self.more_time = BigButton(theme=th, kind="primary", size_hint_x=0.45)
        self.more_time.bind(on_release=lambda *_: self.intents.extend_time())
        self.countdown.add_widget(self.countdown_text)
        self.countdown.add_widget(self.more_time)
        # -- bottom bar: Back (left), Home (centre), Call staff (right), always in place
        self.bottom = Bar(size_hint_y=None, padding=[th.pad, 16], spacing=th.gap)
        self.back_btn = BigButton(theme=th, kind="secondary")
        self.home_btn = BigButton(theme=th, kind="secondary")
        self.staff_btn = BigButton(theme=th, kind="staff")
        self.back_btn.bind(on_release=lambda *_: self.intents.back())
        self.home_btn.bind(on_release=lambda *_: self.intents.go_home())
        self.staff_btn.bind(on_release=lambda *_: self.intents.call_staff())
        for b in (self.back_btn, self.home_btn, self.staff_btn):
            self.bottom.add_widget(b)
        self.add_widget(self.bottom)
        theme.bind(high_contrast=self._recolour, primary=self._recolour,
                   target_h=self._resize_bars)
        self._recolour()
        self._resize_bars()
        self._clock_event = Clock.schedule_interval(lambda _dt: self._update_clock(), 1)
        self._update_clock()

    def _banner(self) -> Bar:
        th = self.theme
        bar = Bar(size_hint_y=None, padding=[th.pad, 16], spacing=th.gap)
        bar.icon = WarningIcon(size_hint=(None, None), size=(64, 64))
        bar.text = Text(theme=th, tone="warning")
        bar.add_widget(bar.icon)
        bar.add_widget(bar.text)
        bar.text.bind(height=lambda w, h: setattr(bar, "height", max(h, 64) + 32))
        return bar

    def _recolour(self, *_: object) -> None:
        th = self.theme
        self.top_bar.bg = th.primary
        self.bottom.bg = th.surface
        for bar in (self.offline, self.notice, self.countdown):
            bar.bg = th.warning_bg
        for bar in (self.offline, self.notice):
            bar.icon.colour = th.warning_text

    def _screen(self, name: str) -> KioskScreen:
        if name not in self.screens:
            screen = SCREEN_CLASSES[name](name=name, theme=self.theme, intents=self.intents,
                                          profile=self.profile)
            self.screens[name] = screen
            self.manager.add_widget(screen)
        return self.screens[name]

    def _resize_bars(self, *_: object) -> None:
        h = self.theme.target_h
        self.toggles.height = h
        self.voice_row.height = h
        self.countdown.height = h + 24
        self.bottom.height = h + 32

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
        self.volume_btn.title = t(lang, "frame.volume", level=level)

    def _toggle(self, what: str) -> None:
        v = self.view
        if v is None:
            return
        if what == "lang":
            self.intents.set_language("en" if v.language == "zh" else "zh")
        elif what == "elder":
            self.intents.set_elder(not v.elder)
        else:
            self.intents.set_high_contrast(not v.high_contrast)

    def _arrange(self, offline: bool, notice: bool, countdown: bool) -> None:
        """Top to bottom: top bar, offline banner, notice, screen, countdown, bottom bar."""
        wanted = [self.top_bar, *([self.offline] if offline else []),
                  *([self.notice] if notice else []), self.manager,
                  *([self.countdown] if countdown else []), self.bottom]
        if list(reversed(self.children)) != wanted:
            self.clear_widgets()
            for w in wanted:
                self.add_widget(w)

    def show(self, view: SessionView) -> None:
        """Draw a session view: the frame here, the rest by the current screen."""
        self.view = view
        lang = view.language
        if (self.theme.elder, self.theme.high_contrast) != (view.elder, view.high_contrast):
            self.theme.apply(elder=view.elder, high_contrast=view.high_contrast)
        self.hall.text = self.profile.terminal.name.get(lang)
        self.lang_btn.title = t(lang, "frame.other_language")
        for button, key, on in ((self.elder_btn, "frame.elder", view.elder),
                                (self.contrast_btn, "frame.high_contrast", view.high_contrast)):
            # Words say the state too: never colour alone.
            button.title = t(lang, key) + (t(lang, "frame.switch_on") if on else "")
            button.kind = "switched_on" if on else "secondary"
        self.offline.text.text = t(lang, "frame.offline")
        speaking = view.elder and view.state not in (State.ATTRACT, State.OUT_OF_SERVICE)
        if speaking and self.voice_row.parent is None:
            self.top_bar.add_widget(self.voice_row)
        elif not speaking and self.voice_row.parent is not None:
            self.top_bar.remove_widget(self.voice_row)
        self._label_voice(lang)
        notice = view.notice if view.state is not State.GOODBYE else None
        if view.staff_called and (notice is None or notice.key == "staff_called"):
            notice_text = t(lang, "notice.staff_called")
        elif notice is not None:
            notice_text = words_for_notice(lang, notice)
        else:
            notice_text = ""
        self.notice.text.text = notice_text
        counting = view.countdown_s is not None
        if counting:
            assert view.countdown_s is not None
            self.countdown_text.text = t(lang, "frame.countdown",
                                         seconds=int(view.countdown_s + 0.999))
            self.more_time.title = t(lang, "frame.more_time" if view.extensions_left
                                     else "frame.no_more_time")
            self.more_time.kind = "primary" if view.extensions_left else "disabled"
            self.more_time.disabled = not view.extensions_left
        self._arrange(view.offline, bool(notice_text), counting)
        # The docked keyboard covers the countdown and Call staff: it must give way.
        for name, typing in (("form", view.state is State.FILL),
                             ("identify", view.passport_details)):
            screen = self.screens.get(name)
            if screen is not None and (counting or not typing):
                screen.release_keyboard()
        self.back_btn.title = t(lang, "frame.back")
        self.home_btn.title = t(lang, "frame.home")
        self.staff_btn.title = t(lang, "frame.staff_coming" if view.staff_called
                                 else "frame.call_staff")
        self.back_btn.opacity = 0 if view.state in NO_BACK else 1
        self.back_btn.disabled = view.state in NO_BACK
        self.home_btn.opacity = 0 if view.state in NO_HOME else 1
        self.home_btn.disabled = view.state in NO_HOME
        name = NAVIGATION[view.state]
        if view.state in (State.GOODBYE, State.ATTRACT, State.OUT_OF_SERVICE):
            for other, screen in self.screens.items():
                if other != name and screen._drawn is not None:
                    screen.wipe()
        screen = self._screen(name)
        screen.show(view)
        if self.manager.current != name:
            self.manager.current = name
        if self.voice is not None:
            self.voice.on_view(view)
