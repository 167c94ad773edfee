"""What a visit asks besides the errand: consent to the face check, the 好差评 rating, honest
words about delivery, a staff call at night, the forgotten card, reading aloud."""

from __future__ import annotations

import json
from typing import Any

from kiosk.config.catalogue import Intent
from kiosk.config.profile import load_profile, with_simulated_devices
from kiosk.demo.scenes import build_scene
from kiosk.session import State
from kiosk.session.visit import RATING_KIND
from screens.voice import VoiceGuide, prompt_for
from tests.test_voice import RecordingSpeaker

PROFILE = with_simulated_devices(load_profile("gov-hall"))


def events(rig: Any, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p) for k, p, _ in rig.session.d.sink.envelopes if k == kind]


def test_the_face_check_waits_for_its_own_consent_and_declining_offers_staff() -> None:
    rig = build_scene("consent", PROFILE)
    s = rig.session
    assert s.state is State.CONSENT and s.face_frame is None
    s.consent_face(False)
    assert s.state is State.CONSENT and s.view().notice.key == "consent_declined"
    s.consent_face(True)
    assert s.state is State.VERIFY
    assert [e["event"] for e in s.d.audit.recent if "consent" in e["event"]] == [
        "face_consent_declined", "face_consent_given"]


def test_a_finished_visit_is_rated_once_after_the_wipe_through_the_outbox() -> None:
    rig = build_scene("rate", PROFILE)
    s = rig.session
    assert s.state is State.RATE and s.identity is None and s.view().masked_name is None
    s.rate(4)
    assert s.state is State.GOODBYE
    s.rate(1)  # a second rating of the same visit is not taken
    (rating,) = events(rig, RATING_KIND)
    assert rating["level"] == 4 and rating["reasons"] == []
    assert rating["service_id"] == "open_coffee_shop" and len(rating["visit_id"]) >= 8
    assert set(rating) == {"terminal_id", "at", "visit_id", "service_id", "level", "reasons",
                           "language", "elder"}


def test_a_bad_rating_asks_why_and_sends_the_reasons_chosen() -> None:
    rig = build_scene("rate-bad", PROFILE)  # level 2, "waited too long" ticked
    s = rig.session
    assert s.state is State.RATE and s.view().rating_reasons == ("waited_too_long",)
    s.toggle_reason("device_failed")
    s.toggle_reason("not_a_reason")
    s.send_rating()
    (rating,) = events(rig, RATING_KIND)
    assert rating["level"] == 2 and rating["reasons"] == ["device_failed", "waited_too_long"]


def test_skipping_the_rating_sends_nothing_and_a_timeout_is_not_rated() -> None:
    rig = build_scene("rate", PROFILE)
    rig.session.skip_rating()
    assert rig.session.state is State.GOODBYE and events(rig, RATING_KIND) == []
    rig = build_scene("form", PROFILE)
    rig.reader.remove_card()
    t = rig.session.d.timings
    rig.tick(t.idle_before_countdown_s + t.countdown_s + 1)
    assert rig.session.state is State.GOODBYE  # nobody is there to rate


def test_queued_is_saved_and_submitted_only_once_the_back_office_has_it() -> None:
    from screens.i18n import submitted_words

    rig = build_scene("result-offline", PROFILE)
    view = rig.session.view()
    assert view.outcome.delivered is False
    saved = submitted_words("zh", view.outcome.delivered, view.offline)
    assert saved == "已保存，网络恢复后自动提交"
    keys = []
    rig.session.d.delivered = lambda key: keys.append(key) or True  # the outbox delivered it
    rig.online[0] = True
    rig.tick()
    view = rig.session.view()
    assert view.outcome.delivered is True and keys
    assert submitted_words("zh", view.outcome.delivered, view.offline) == "已提交"


def test_services_that_need_the_back_office_are_greyed_with_the_reason_offline() -> None:
    view = build_scene("home-offline", PROFILE).session.view()
    assert dict(view.unavailable_intents) == {"query": "needs_network"}


def test_a_staff_call_out_of_hours_gives_the_hotline_not_a_promise() -> None:
    from screens.i18n import notice_text

    night = build_scene("staff-after-hours", PROFILE).session.view()
    assert night.staff_when == "after_hours"
    words = notice_text("zh", night.notice, hours="09:00-17:00", hotline="12345")
    assert "12345" in words and "马上就到" not in words
    day = build_scene("services", PROFILE)
    day.session.d.staffed = (0, 24 * 60 - 1)  # on duty all day
    day.session.call_staff()
    assert day.session.view().staff_when == "staffed"


def test_a_forgotten_card_is_called_out_until_taken_then_staff_are_told() -> None:
    rig = build_scene("goodbye-card-left", PROFILE)
    s = rig.session
    assert s.state is State.GOODBYE and s.view().card_left
    rig.tick(s.d.timings.goodbye_s + 1)
    assert s.state is State.GOODBYE and s.view().card_left  # it stays while the card does
    rig.tick(s.d.timings.card_left_alert_s)
    rig.tick()
    assert s.state is State.ATTRACT and len(events(rig, "staff.card_left")) == 1


def test_read_aloud_works_outside_elder_mode_and_reads_what_is_on_the_page() -> None:
    rig = build_scene("home", PROFILE)
    s = rig.session
    guide, speaker = VoiceGuide(RecordingSpeaker()), None
    speaker = guide.speaker
    guide.on_view(s.view())
    assert speaker.said == []  # not asked for
    s.set_read_aloud(True)
    guide.on_view(s.view())
    assert "我要办" in speaker.said[-1][0]
    bank = with_simulated_devices(load_profile("bank-branch"))
    text = prompt_for(build_scene("home", bank).session.view(), ("apply", "query"))
    assert "我要取" not in text  # the bank has no locker: it is not promised


def test_the_forgotten_card_is_heard_in_every_mode() -> None:
    guide = VoiceGuide(RecordingSpeaker())
    view = build_scene("goodbye-card-left", PROFILE).session.view()
    assert not view.read_aloud
    guide.on_view(view)
    assert guide.speaker.said and "身份证" in guide.speaker.said[0][0]


def test_the_confirm_values_tracking_number_and_offline_state_are_read() -> None:
    rig = build_scene("result-offline", PROFILE, lang="en")
    rig.session.set_read_aloud(True)
    view = rig.session.view()
    text = prompt_for(view)
    assert "Network down" in text and "Saved" in text
    assert " ".join(view.outcome.tracking_no.rsplit("-", 1)[-1]) in text
    confirm = prompt_for(build_scene("confirm", PROFILE).session.view())
    assert "晨光咖啡" in confirm and "世纪大道100号" in confirm and "开咖啡店" in confirm
    rig = build_scene("home", PROFILE)
    rig.session.choose_intent(Intent.APPLY)
    assert "请选择" in prompt_for(rig.session.view())


def test_every_screens_words_can_be_read_aloud_in_both_languages() -> None:
    from kiosk.demo.scenes import IDLE_SCENES, SCENES

    for scene in SCENES:
        if scene in IDLE_SCENES:
            continue  # nobody is there: nothing is read
        for lang in ("zh", "en"):
            view = build_scene(scene, PROFILE, lang=lang).session.view()
            text = prompt_for(view)
            assert len(text) > 4, (scene, lang, text)
            if lang == "en":
                assert not any("\u4e00" <= ch <= "\u9fff" for ch in text), (scene, text)
