"""What a visit asks of the citizen besides the errand: the preferences they chose (language,
elder mode, contrast, read aloud), the separate consent to the face check, and the 好差评
rating of every finished visit.

The face check handles biometric data, which China's PIPL (art. 28-29) counts as sensitive:
it needs its own consent, asked before the camera looks, and declining offers another way
(staff check the document by sight). The rating (five levels, one a visit, reasons when it is
bad) goes through the outbox like every event, so it is kept offline too; it is asked after
the privacy wipe and carries no personal data, only the visit's random id and the service.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, cast

from kiosk.session.events import queue_event_safely
from kiosk.session.intents import intent
from kiosk.session.view import Notice, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session

log = logging.getLogger(__name__)
RATING_KIND = "visit.rating"
LEVELS = (5, 4, 3, 2, 1)  # 非常满意 ... 非常不满意
BAD = 2  # 不满意 and below: reasons are asked and the back office opens a follow-up
REASONS = ("waited_too_long", "hard_to_use", "device_failed", "could_not_finish",
           "staff_unhelpful", "other")


def new_visit_id() -> str:
    return secrets.token_urlsafe(12)


class Preferences:
    """Language, elder mode, contrast and reading aloud last until the attract screen returns,
    so that the goodbye screen still speaks to the citizen the way they chose."""

    def _reset_preferences(self) -> None:
        s = _session(self)
        s.language = s.d.default_language
        s.elder = False
        s.high_contrast = s.d.high_contrast
        s.read_aloud = False

    @intent
    def set_language(self, language: str) -> None:
        if language in ("zh", "en"):
            _session(self).language = language

    @intent
    def set_elder(self, on: bool) -> None:
        """Elder mode reads the screens aloud too (UI.md); reading can be switched off."""
        s = _session(self)
        s.elder = bool(on)
        s.read_aloud = s.read_aloud or s.elder

    @intent
    def set_high_contrast(self, on: bool) -> None:
        _session(self).high_contrast = bool(on)

    @intent
    def set_read_aloud(self, on: bool) -> None:
        _session(self).read_aloud = bool(on)


class VisitSteps:
    """The consent to the face check, and the rating."""

    @intent
    def consent_face(self, agree: bool) -> None:
        s = _session(self)
        if s.state is not State.CONSENT:
            return
        s.d.audit.record("face_consent_given" if agree else "face_consent_declined")
        if agree:
            s.face_consent = True
            s.go(State.VERIFY)
        else:  # another way: staff check the document by sight
            s.face_declined = True
            s.notice = Notice("consent_declined")

    @intent
    def rate(self, level: int) -> None:
        """One of the five levels; a bad one asks why (optional), a good one is sent now."""
        s = _session(self)
        if s.state is not State.RATE or level not in LEVELS:
            return
        s.rating_level = level
        s.rating_reasons = set()
        if level > BAD:
            send_rating(s)

    @intent
    def toggle_reason(self, code: str) -> None:
        s = _session(self)
        if s.state is State.RATE and s.rating_level is not None \
                and s.rating_level <= BAD and code in REASONS:
            s.rating_reasons ^= {code}

    @intent
    def send_rating(self) -> None:
        s = _session(self)
        if s.state is State.RATE and s.rating_level is not None:
            send_rating(s)

    @intent
    def skip_rating(self) -> None:
        s = _session(self)
        if s.state is State.RATE:
            s.d.audit.record("rating_skipped")
            leave(s)


def _session(mixin: object) -> Session:
    return cast("Session", mixin)


def to_face_check(s: Session) -> None:
    """The face check, once the citizen has consented to it in this visit."""
    s.go(State.VERIFY if s.face_consent or not s.d.ask_face_consent else State.CONSENT)


def send_rating(s: Session) -> None:
    level = s.rating_level
    assert level is not None
    reasons = sorted(s.rating_reasons) if level <= BAD else []
    queue_event_safely(s, RATING_KIND, {
        "visit_id": s.visit_id, "service_id": s.rated_service, "level": level,
        "reasons": reasons, "language": s.language, "elder": s.elder},
        key=f"rating-{s.d.terminal_id}-{s.visit_id}")
    s.d.audit.record("visit_rated", level=level)
    s.rated = True
    leave(s, Notice("goodbye_rated"))


def leave(s: Session, notice: Notice | None = None) -> None:
    s.go(State.GOODBYE, notice or Notice("goodbye_finished"))
    s._watch_card()


def owes_rating(s: Session, reason: str) -> bool:
    """A visit that finished is asked once; one that timed out or went back is not."""
    return reason == "finished" and not s.rated and s.d.ratings
