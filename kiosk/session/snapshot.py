"""Building the immutable view that screens draw from the live session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.id_reader.gb11643 import mask
from kiosk.config.catalogue import Intent, load_catalogue
from kiosk.session import assist
from kiosk.session.view import ChoiceItem, SessionView, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session


def mask_name(name: str) -> str:
    """张* / 李** / J*** : enough to recognise oneself, not enough to identify."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def choices(s: Session) -> tuple[ChoiceItem, ...]:
    """The buttons of the service list: groups at the top level, then their members."""
    avail = s.availability()
    items: list[ChoiceItem] = []
    seen_groups: set[str] = set()
    for service in s.d.services:
        if service.intent is not s.intent:
            continue
        if s.group is None and service.group is not None:
            if service.group in seen_groups:
                continue
            seen_groups.add(service.group)
            g = load_catalogue().group_by_id(service.group)
            reasons = [avail[m.id] for m in s.d.services if m.group == g.id]
            reason = None if any(r is None for r in reasons) else reasons[0]
            items.append(ChoiceItem(g.id, g.title, g.summary, True, reason))
        elif service.group == s.group:
            items.append(ChoiceItem(service.id, service.title, service.summary, False,
                                    avail[service.id]))
    return tuple(items)


# While one of these is said, the identify screen shows the passport details to type.
PASSPORT_DETAILS_NOTICES = frozenset({"id_access_key_needed", "id_access_denied",
                                      "passport_details_invalid"})


def can_reprint(s: Session) -> bool:
    """A receipt or certificate did not print, its printer can print now, and it was not
    offered yet."""
    outcome = s.outcome
    if s.state is not State.DONE or outcome is None or outcome.printed is not False:
        return False
    certificate = outcome.output == "certificate"
    status = s.d.statuses().get("certificate_printer" if certificate else "printer")
    job = outcome.serial_no if certificate else outcome.tracking_no
    return status is not None and status.usable and s.d.journal.may_reprint(job or "")


def build_view(s: Session) -> SessionView:
    now = s.d.clock.now()
    ident = s.identity
    waiting = s.state in (State.IDENTIFY, State.VERIFY)
    t = s.d.timings
    limit = t.identify_wait_s if s.state is State.IDENTIFY else t.face_wait_s
    return SessionView(
        state=s.state,
        language=s.language,
        elder=s.elder,
        high_contrast=s.high_contrast,
        offline=s.d.online() is False,
        choices=choices(s) if s.state is State.CHOOSE else (),
        group_title=load_catalogue().group_by_id(s.group).title if s.group else None,
        service=s.service,
        masked_name=mask_name(ident.name) if ident else None,
        masked_id=mask(ident.id_number) if ident else None,
        values=dict(s.values),
        errors=dict(s.errors),
        countdown_s=s.countdown_remaining(now),
        extensions_left=max(0, t.max_extensions - s.extensions),
        notice=s.notice,
        outcome=s.outcome,
        staff_called=s.staff_called,
        staff_when=s.staff_when,
        assisted_by=s.assisted_by,
        staff_may_vouch=bool(s.assisted_by) and assist.needs_vouching(s),
        staff_may_accept_expired=bool(s.assisted_by) and assist.has_expired_document(s),
        card_left=s.state in (State.GOODBYE, State.RATE) and s.card_was_left,
        card_alerted=s.card_alerted,
        documents=s.d.documents if s.state is State.IDENTIFY else (),
        face_gave_up=s.state is State.VERIFY and s.face_gave_up,
        can_reprint=can_reprint(s),
        passport_details=s.state is State.IDENTIFY and s.notice is not None
        and s.notice.key in PASSPORT_DETAILS_NOTICES,
        waited_s=now - s.entered_at if waiting else 0.0,
        wait_limit_s=s.scaled(limit) if waiting else 0.0,
        read_aloud=s.read_aloud,
        unavailable_intents=unavailable_intents(s) if s.state is State.HOME else (),
        rating_level=s.rating_level if s.state is State.RATE else None,
        rating_reasons=tuple(sorted(s.rating_reasons)) if s.state is State.RATE else (),
    )


def unavailable_intents(s: Session) -> tuple[tuple[str, str], ...]:
    """我要办 / 我要取 / 我要查 that cannot be done now, and why: every service behind it is
    unavailable (offline, a device down); the reason is the first service's."""
    reasons = s.availability()
    out = []
    for intent in (Intent.APPLY, Intent.COLLECT, Intent.QUERY):
        behind = [reasons[x.id] for x in s.d.services if x.intent is intent]
        if behind and all(r is not None for r in behind):
            out.append((intent.value, str(behind[0])))
    return tuple(out)
