"""Terminal events from the session to the outbox (staff calls, collections, a print left
behind): no personal data, and a failure to queue one never traps the citizen."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kiosk.records.submission import queue_event

if TYPE_CHECKING:
    from kiosk.session.machine import Session

log = logging.getLogger(__name__)


def queue_event_safely(s: Session, kind: str, body: Mapping[str, object],
                       key: str | None = None) -> bool:
    """A terminal event to the outbox; a failure is logged and never traps the session."""
    try:
        queue_event(s.d.sink, kind, {"terminal_id": s.d.terminal_id,
                                        "at": s.d.clock.wall(), **body}, key)
    except Exception:
        log.exception("could not queue %s", kind)
        return False
    s.d.on_submitted()
    return True
