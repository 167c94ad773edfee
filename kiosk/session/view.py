"""What screens are given to draw: an immutable snapshot of the session, no personal data
beyond the masked name and number."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kiosk.config.catalogue import LocalizedText, Service


class State(StrEnum):
    ATTRACT = "attract"
    OUT_OF_SERVICE = "out_of_service"
    HOME = "home"
    CHOOSE = "choose"
    IDENTIFY = "identify"
    CONSENT = "consent"  # the separate consent to the face check (biometric data, PIPL)
    VERIFY = "verify"
    FILL = "fill"
    CONFIRM = "confirm"
    SUBMITTING = "submitting"
    HANDOVER = "handover"
    DONE = "done"
    RATE = "rate"  # 好差评, after the privacy wipe
    GOODBYE = "goodbye"


# States in which no citizen is being served: no countdown, nothing to wipe.
IDLE_STATES = frozenset({State.ATTRACT, State.OUT_OF_SERVICE, State.GOODBYE})


@dataclass(frozen=True)
class Notice:
    """A message for the citizen, by key; screens hold the words in each language."""

    key: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str:
        return dict(self.params).get(name, "")


@dataclass(frozen=True)
class ChoiceItem:
    id: str
    title: LocalizedText
    summary: LocalizedText
    is_group: bool
    unavailable_reason: str | None


@dataclass(frozen=True)
class ApplicationSummary:
    tracking_no: str
    service_id: str
    status: str
    title: LocalizedText | None


@dataclass(frozen=True)
class Outcome:
    """What the citizen leaves with, shown on the result screen."""

    output: str  # receipt | certificate | locker | screen
    tracking_no: str | None = None
    serial_no: str | None = None  # a certificate's, as the back office issued it
    printed: bool | None = None  # None: nothing to print
    door: int | None = None
    door_label: str = ""  # where it is, as written on the locker (e.g. "A-03")
    door_open: bool = False  # False in hand-over: the door is being opened
    door_count: int = 0  # compartments in the locker (for the map); 0: not known
    applications: tuple[ApplicationSummary, ...] | None = None  # None: could not ask
    nothing_to_collect: bool = False
    # An application: False while only in the outbox, True once the back office has it.
    delivered: bool | None = None


@dataclass(frozen=True)
class SessionView:
    state: State
    language: str
    elder: bool
    high_contrast: bool
    offline: bool
    choices: tuple[ChoiceItem, ...] = ()
    group_title: LocalizedText | None = None
    service: Service | None = None
    masked_name: str | None = None
    masked_id: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    countdown_s: float | None = None
    extensions_left: int = 0
    notice: Notice | None = None
    outcome: Outcome | None = None
    staff_called: bool = False
    assisted_by: str = ""  # the staff number of who assists the citizen now
    staff_may_vouch: bool = False  # the assisting staff can vouch for the identity by sight
    staff_may_accept_expired: bool = False  # an expired document the assisting staff may let by
    staff_when: str = ""  # "staffed": someone will come; "after_hours": the hotline answers
    card_left: bool = False
    documents: tuple[str, ...] = ()  # what can be presented here (on the identify screen)
    passport_details: bool = False  # the identify screen asks for a passport's MRZ details
    face_gave_up: bool = False  # no more face checks: the citizen is asked to call staff
    can_reprint: bool = False  # a receipt did not print and the printer can print now
    waited_s: float = 0.0  # how long the current device wait has lasted, for progress
    wait_limit_s: float = 0.0
    read_aloud: bool = False  # the screens are read aloud (elder mode turns it on)
    # Home: why 我要办 / 我要取 / 我要查 cannot be done now (e.g. needs_network), by intent.
    unavailable_intents: tuple[tuple[str, str], ...] = ()
    rating_level: int | None = None  # 好差评: the level chosen (a bad one asks why)
    rating_reasons: tuple[str, ...] = ()
    card_alerted: bool = False  # the card left in the reader: staff have been told
