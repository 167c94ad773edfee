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

from kiosk.session import SessionView, State
from screens.i18n import identify_words, notice_text, t

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


def prompt_for(view: SessionView) -> str:
    """What the voice says for a view: the screen's prompt, then any notice."""
    lang = view.language
    parts: list[str] = []
    state, outcome = view.state, view.outcome
    if state is State.HOME:
        parts.append(t(lang, "voice.home"))
    elif state is State.CHOOSE:
        parts.append(t(lang, "services.title"))
        parts += [c.title.get(lang) for c in view.choices if c.unavailable_reason is None]
    elif state is State.IDENTIFY:
        parts.append(identify_words(lang, view.documents)[1].replace("\n", " "))
    elif state is State.VERIFY:
        stopped = "failed_" if view.face_gave_up else ""
        parts.append(t(lang, f"identify.verify_{stopped}prompt"))
    elif state is State.FILL:
        parts.append(t(lang, "form.title"))
    elif state is State.CONFIRM:
        parts.append(t(lang, "voice.confirm"))
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
        parts.append(t(lang, "result.done"))
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
        parts.append(notice_text(lang, view.notice))
    return "。".join(parts) if lang == "zh" else ". ".join(parts)


class VoiceGuide:
    """Speaks each new screen while elder mode is on; silent otherwise."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        self.volume = "medium"
        self._said: tuple[object, ...] | None = None
        self._text = ""
        self._lang = "zh"

    def on_view(self, view: SessionView) -> None:
        if not view.elder or view.state in (State.ATTRACT, State.OUT_OF_SERVICE):
            if self._said is not None:
                self.speaker.stop()
            self._said = None
            return
        key = (view.state, view.notice, view.language, view.outcome, view.group_title,
               view.card_left)
        if key == self._said:
            return
        self._said = key
        self._text, self._lang = prompt_for(view), view.language
        self.speaker.say(self._text, self._lang, self.volume)

    def repeat(self) -> None:
        if self._said is not None:
            self.speaker.say(self._text, self._lang, self.volume)

    def next_volume(self) -> str:
        self.volume = VOLUMES[(VOLUMES.index(self.volume) + 1) % len(VOLUMES)]
        self.repeat()
        return self.volume
