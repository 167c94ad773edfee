"""Voice guidance: spoken prompts in elder mode, silence otherwise, stop at session end; and
espeak-ng really speaks Mandarin and English here (to WAV files: CI has no sound card)."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk.config.profile import load_profile, with_simulated_devices
from kiosk.demo.scenes import build_scene
from screens.voice import EspeakSpeaker, VoiceGuide, prompt_for

PROFILE = with_simulated_devices(load_profile("gov-hall"))


class RecordingSpeaker:
    def __init__(self) -> None:
        self.said: list[tuple[str, str, str]] = []
        self.stops = 0

    def say(self, text: str, lang: str, volume: str) -> None:
        self.said.append((text, lang, volume))

    def stop(self) -> None:
        self.stops += 1


def test_elder_mode_speaks_each_new_screen_once() -> None:
    speaker = RecordingSpeaker()
    guide = VoiceGuide(speaker)
    view = build_scene("home", PROFILE, elder=True).session.view()
    guide.on_view(view)
    guide.on_view(view)  # the same screen again (a countdown tick): not repeated
    assert len(speaker.said) == 1 and "我要办" in speaker.said[0][0]
    assert speaker.said[0][1:] == ("zh", "medium")


def test_without_elder_mode_the_kiosk_is_silent() -> None:
    speaker = RecordingSpeaker()
    VoiceGuide(speaker).on_view(build_scene("home", PROFILE).session.view())
    assert speaker.said == []


def test_errors_are_spoken_in_the_citizens_language() -> None:
    view = build_scene("result-print-failed", PROFILE, lang="en", elder=True).session.view()
    text = prompt_for(view)
    assert "the receipt did not print" in text and "Saved" in text


def test_locker_door_is_spoken_with_its_number() -> None:
    view = build_scene("result-locker", PROFILE, elder=True).session.view()
    assert "7 号柜门已打开" in prompt_for(view)


def test_a_door_being_opened_is_spoken_as_opening_not_open() -> None:
    view = build_scene("result-locker-opening", PROFILE, elder=True).session.view()
    assert view.outcome is not None and not view.outcome.door_open
    assert prompt_for(view) == "正在打开 7 号柜门…"


def test_voice_stops_when_the_session_ends() -> None:
    speaker = RecordingSpeaker()
    guide = VoiceGuide(speaker)
    rig = build_scene("services", PROFILE, elder=True)
    guide.on_view(rig.session.view())
    rig.session.back()
    rig.session.back()  # home -> goodbye: the session ends
    guide.on_view(rig.session.view())
    assert "感谢使用" in speaker.said[-1][0]
    rig.tick(60)  # back to attract: preferences reset, voice stops
    guide.on_view(rig.session.view())
    assert speaker.stops == 1


def test_repeat_and_volume() -> None:
    speaker = RecordingSpeaker()
    guide = VoiceGuide(speaker)
    guide.on_view(build_scene("identify", PROFILE, elder=True).session.view())
    guide.repeat()
    assert speaker.said[0] == speaker.said[1]
    assert guide.next_volume() == "high" and speaker.said[-1][2] == "high"
    assert guide.next_volume() == "low"


def wait_for_wav(folder: Path, n: int) -> Path:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # a separate process writes it: wait, bounded
        done = folder / f"speech-{n:04d}.wav"
        if done.exists() and done.stat().st_size > 20_000:
            time.sleep(0.2)  # let espeak-ng finish the header it rewrites at the end
            return done
        time.sleep(0.1)
    raise AssertionError(f"no speech-{n:04d}.wav")


def test_espeak_speaks_mandarin_and_english(tmp_path: Path) -> None:
    speaker = EspeakSpeaker(out_dir=tmp_path)
    assert speaker.binary is not None, "espeak-ng is installed by scripts/bootstrap.sh"
    speaker.say("您好，请刷身份证", "zh", "medium")
    zh = wait_for_wav(tmp_path, 1)
    speaker.say("Please show your ID card", "en", "high")
    en = wait_for_wav(tmp_path, 2)
    assert zh.read_bytes()[:4] == b"RIFF" and en.read_bytes()[:4] == b"RIFF"


def test_collection_and_status_results_are_spoken() -> None:
    rig = build_scene("result-locker", PROFILE, elder=True)
    rig.locker.citizen_takes_item_and_closes(7)
    rig.tick()
    assert "领取完成" in prompt_for(rig.session.view())
    query = build_scene("result-query", PROFILE, lang="en", elder=True).session.view()
    assert "My applications" in prompt_for(query) and "In review" in prompt_for(query)


def test_the_identify_screen_names_every_document_accepted_here() -> None:
    bank = with_simulated_devices(load_profile("bank-branch"))
    view = build_scene("identify", bank, elder=True).session.view()
    assert view.documents == ("resident_id", "residence_permit", "bank_card")
    assert "身份证、居住证或永久居留证、银行卡" in prompt_for(view)
    english = build_scene("identify", bank, lang="en", elder=True).session.view()
    assert "ID card, residence permit, bank card" in prompt_for(english)
