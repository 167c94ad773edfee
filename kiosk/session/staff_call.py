"""A call for help, from any screen: queued through the outbox (it survives a network cut)
with the terminal, the screen and how long the citizen had been on it; then, while staff are
on duty, the back office is asked after it until a member of staff has taken it, and only then
is the citizen told someone is on the way. Out of staffed hours the citizen is given the
hotline instead. No personal data goes with a call."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kiosk.session.events import queue_event_safely
from kiosk.session.hours import staffed_now
from kiosk.session.view import Notice
from kiosk.session.visit import new_visit_id

if TYPE_CHECKING:
    from kiosk.session.machine import Session

log = logging.getLogger(__name__)
CALL_KIND = "staff.call"


def call_key(s: Session) -> str:
    """The call's idempotency key: its own random id (a call from the attract screen, or
    after a visit ended, is a call of its own)."""
    return f"{CALL_KIND}:{s.call_id}"


def call_for_help(s: Session) -> None:
    if s.staff_called:
        return
    now = s.d.clock.now()
    s.staff_called = True
    s.call_id = new_visit_id()
    s.d.audit.record("staff_called", screen=s.state.value)
    queue_event_safely(s, CALL_KIND, {"screen": s.state.value,
                                      "waited_s": round(max(0.0, now - s.entered_at), 1)},
                       call_key(s))
    s.staff_when = staffed_now(s)
    s.call_checked_at = now
    s.notice = Notice("staff_called", (("when", s.staff_when),))


def watch_call(s: Session, now: float) -> None:
    """Under the session's lock, each tick: every `call_check_s`, the back office is asked
    (off the lock) whether the call has been taken."""
    desk = s.d.calls
    if (desk is None or not s.staff_called or s.staff_when != "staffed"
            or now - s.call_checked_at < s.d.timings.call_check_s):
        return
    s.call_checked_at = now
    key, visit = call_key(s), s.call_id

    def ask() -> None:
        try:
            status = desk.call_status(key)
        except Exception:  # a client bug must not stop the session's runner
            log.exception("could not ask after the call for help")
            return
        if status == "taken":
            s.call_taken(visit)

    s.d.steps.run(ask)


def on_taken(s: Session, visit: str) -> bool:
    """Under the lock: the call `visit` (its id) was taken; False when that call is over."""
    if visit != s.call_id or not s.staff_called or s.staff_when != "staffed":
        return False
    s.staff_when = "taken"
    s.d.audit.record("staff_call_taken", screen=s.state.value)
    if s.notice is None or s.notice.key == "staff_called":
        s.notice = Notice("staff_called", (("when", "taken"),))
    return True
