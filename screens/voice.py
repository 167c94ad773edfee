"""Voice guidance (UI.md): in elder mode each screen's prompt and every error are spoken,
with Repeat and volume on the top bar; it stops when the session ends.

Speech is offline (espeak-ng, Mandarin voice `cmn`), started on a worker thread so the UI
thread never waits for a process. Without espeak-ng or a sound card the kiosk works silently;
with `out_dir` set the speech is written to WAV files instead (tests, headless demos).
"""

from __future__ import annotations

import itertools
import logging
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import ClassVar, Protocol

from kiosk.session import Notice, SessionView, State
from screens.i18n import answers, identify_words, notice_text, submitted_words, t

log = logging.getLogger(__name__)
VOLUMES = ("low", "medium", "high")


class Speaker(Protocol):
    def say(self, text: str, lang: str, volume: str) -> None: ...

    def stop(self) -> None: ...


class EspeakSpeaker:
    VOICES: ClassVar[dict[str, str]] = {"zh": "cmn", "en": "en"}
    AMPLITUDE: ClassVar[dict[str, int]] = {"low": 60, "medium": 110, "high": 180}  # -a 0..200

    def __init__(self, out_dir: Path | None = None, binary: str = "espeak-ng") -> None:
        self.binary = shutil.which(binary)
        self.out_dir = out_dir
        self._jobs: queue.SimpleQueue[tuple[str, str, str] | None] = queue.SimpleQueue()
        self._proc: subprocess.Popen[bytes] | None = None
        self._count = itertools.count(1)
        if self.binary is None:
            log.warning("espeak-ng not found: voice guidance is silent")
        else:
            threading.Thread(target=self._work, name="voice", daemon=True).start()

    def say(self, text: str, lang: str, volume: str) -> None:
        if self.binary is not None and text:
            self._jobs.put((text, lang, volume))

    def stop(self) -> None:
        if self.binary is not None:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            self._silence()
            if job is not None:
                self._speak(*job)

    def _silence(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
        self._proc = None

    def _speak(self, text: str, lang: str, volume: str) -> None:
        assert self.binary is not None
        cmd = [self.binary, "-v", self.VOICES.get(lang, "cmn"), "-a",
               str(self.AMPLITUDE.get(volume, 110)), "-s", "140"]  # slower than the default
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            cmd += ["-w", str(self.out_dir / f"speech-{next(self._count):04d}.wav")]
        try:
            self._proc = subprocess.Popen([*cmd, text], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            log.exception("espeak-ng could not start")


HOME_CHOICES = ("apply", "collect", "query")


def prompt_for(view: SessionView, offered: tuple[str, ...] = HOME_CHOICES,
               **extra: object) -> str:
    """What the voice says for a view: the screen's prompt and what is on it, then any notice.
    `offered`: the home screen's choices here; `extra`: the staffed hours and hotline."""
    lang = view.language
    parts: list[str] = []
    state, outcome = view.state, view.outcome
    if state is State.HOME:
        parts.append(t(lang, "home.greeting"))
        down = dict(view.unavailable_intents)
        for key in offered:
            words = t(lang, f"home.{key}")
            if key in down:
                words += ", " + t(lang, "home.unavailable",
                                  reason=t(lang, f"reason.{down[key]}"))
            parts.append(words)
        parts.append(t(lang, "home.ask"))
    elif state is State.CONSENT:
        parts += [t(lang, k) for k in ("consent.title", "consent.what", "consent.kept",
                                       "consent.other_way")]
    elif state is State.RATE and view.rating_level is not None:
        parts += [t(lang, "rate.sorry"), t(lang, "rate.pick_reasons")]
    elif state is State.RATE:
        parts.append(t(lang, "rate.title"))
        parts += [t(lang, f"rate.level_{v}") for v in (5, 4, 3, 2, 1)]
    elif state is State.CHOOSE:
        parts.append(t(lang, "services.title"))
        parts += [c.title.get(lang) for c in view.choices if c.unavailable_reason is None]
    elif state is State.IDENTIFY:
        parts.append(identify_words(lang, view.documents)[1].replace("\n", " "))
    elif state is State.VERIFY:
        stopped = "failed_" if view.face_gave_up else ""
        parts.append(t(lang, f"identify.verify_{stopped}prompt"))
    elif state is State.FILL and view.service is not None:
        parts.append(t(lang, "form.title"))
        parts += [f"{label}: {shown or t(lang, 'voice.empty')}"  # what each holds so far
                  for label, shown in answers(lang, view.service, view.values)]
    elif state is State.CONFIRM and view.service is not None:
        parts.append(t(lang, "voice.confirm"))
        parts.append(f"{t(lang, 'confirm.service')}: {view.service.title.get(lang)}")
        parts += [f"{label}: {shown}" for label, shown in answers(lang, view.service, view.values)]
    elif state is State.SUBMITTING:
        parts.append(t(lang, "result.submitting"))
    elif state is State.HANDOVER and outcome is not None and outcome.door is not None \
            and not outcome.door_open:
        parts.append(t(lang, "result.door_opening", door=outcome.door))
    elif state is State.HANDOVER and outcome is not None and outcome.door is not None:
        parts += [t(lang, "result.door_open", door=outcome.door), t(lang, "result.door_take")]
    elif state is State.HANDOVER:
        parts.append(t(lang, "result.printing"))
    elif state is State.DONE and outcome is not None and outcome.tracking_no:
        parts.append(submitted_words(lang, outcome.delivered, view.offline))
        # The number the citizen may need, its last part one sign at a time.
        parts.append(t(lang, "result.tracking") + ": " + " ".join(
            outcome.tracking_no.rsplit("-", 1)[-1]))
        if outcome.printed:
            parts.append(t(lang, "result.take_receipt"))
    elif state is State.DONE and outcome is not None and outcome.output == "locker":
        if outcome.nothing_to_collect:
            parts.append(t(lang, "result.nothing"))
        elif view.notice is None:
            parts.append(t(lang, "result.collected"))
    elif state is State.DONE and outcome is not None and outcome.output == "screen":
        apps = outcome.applications
        if apps is None:
            parts.append(t(lang, "result.apps_unreachable"))
        elif not apps:
            parts.append(t(lang, "result.apps_none"))
        else:
            parts.append(t(lang, "result.apps_title"))
            parts += [f"{a.title.get(lang) if a.title else a.service_id}, "
                      f"{t(lang, f'status.{a.status}')}" for a in apps[:6]]
    elif state is State.GOODBYE:
        parts.append(t(lang, "goodbye.title"))
        if view.card_left:
            parts.append(t(lang, "goodbye.take_card"))
    if view.notice is not None and state is not State.GOODBYE:
        parts.append(notice_text(lang, view.notice, **extra))
    elif view.staff_called:
        called = Notice("staff_called", (("when", view.staff_when),))
        parts.append(notice_text(lang, called, **extra))
    if view.offline and state not in (State.GOODBYE, State.ATTRACT):
        parts.append(t(lang, "frame.offline"))
    if view.countdown_s is not None:
        parts.append(t(lang, "frame.countdown", seconds=int(view.countdown_s + 0.999)))
    return "。".join(parts) if lang == "zh" else ". ".join(parts)


class VoiceGuide:
    """Speaks each new screen while the citizen has it read aloud (elder mode turns that on);
    silent otherwise, and silenced when the session ends."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        self.offered: tuple[str, ...] = HOME_CHOICES
        self.extra: dict[str, object] = {}
        self.volume = "medium"
        self._said: tuple[object, ...] | None = None
        self._counting = False
        self._card_said = False
        self._text = ""
        self._lang = "zh"

    def on_view(self, view: SessionView) -> None:
        if view.card_left and not self._card_said:  # in every mode, not only when reading
            self._card_said = True
            self.speaker.say(t(view.language, "goodbye.take_card"), view.language, "high")
        self._card_said = self._card_said and view.card_left
        if not view.read_aloud or view.state in (State.ATTRACT, State.OUT_OF_SERVICE):
            if self._said is not None:
                self.speaker.stop()
            self._said = None
            return
        key = (view.state, view.notice, view.language, view.outcome, view.group_title,
               view.card_left, view.rating_level, view.offline, view.staff_called,
               view.staff_when)
        counting = view.countdown_s is not None
        if key == self._said:
            if counting and not self._counting:  # only the countdown is new: say just that
                assert view.countdown_s is not None
                self.speaker.say(t(view.language, "frame.countdown",
                                   seconds=int(view.countdown_s + 0.999)),
                                 view.language, self.volume)
            self._counting = counting
            return
        self._said, self._counting = key, counting
        self._text, self._lang = prompt_for(view, self.offered, **self.extra), view.language
        self.speaker.say(self._text, self._lang, self.volume)

    def repeat(self) -> None:
        if self._said is not None:
            self.speaker.say(self._text, self._lang, self.volume)

    def next_volume(self) -> str:
        self.volume = VOLUMES[(VOLUMES.index(self.volume) + 1) % len(VOLUMES)]
        self.repeat()
        return self.volume
