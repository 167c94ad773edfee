"""Device trouble that needs a person, sent to staff as events through the outbox: a device
entering a state someone must see to (receipt paper low or out, a cover open, a reader or the
camera gone) and, once it is fixed, that it is. One alert a device and reason, not one a poll;
no personal data."""

from __future__ import annotations

import logging
import threading

from devices.status import DeviceState, DeviceStatus
from kiosk.config.settings import Clock
from kiosk.records.submission import EnvelopeSink, queue_event

log = logging.getLogger(__name__)
NEEDS_SOMEONE = frozenset({DeviceState.DEGRADED, DeviceState.FAULT, DeviceState.OFFLINE})


class StaffAlerts:
    def __init__(self, sink: EnvelopeSink, terminal_id: str, clock: Clock) -> None:
        self._sink, self._terminal_id, self._clock = sink, terminal_id, clock
        self._lock = threading.Lock()
        self._raised: dict[str, str] = {}  # device -> the reason staff were told

    def device(self, name: str, status: DeviceStatus) -> None:
        with self._lock:
            told = self._raised.get(name)
            if status.state in NEEDS_SOMEONE:
                if told == status.reason:
                    return
                self._raised[name] = status.reason
                self._queue("staff.alert", {"device": name, "state": status.state.value,
                                            "reason": status.reason,
                                            "message": status.message})
            elif told is not None:
                del self._raised[name]
                self._queue("staff.alert_cleared", {"device": name, "reason": told})

    def not_printed(self, document: str, number: str) -> None:
        """A citizen's receipt (by tracking number) or certificate (by serial) will never
        print (they left, or the terminal stopped)."""
        if document == "certificate":
            self._queue("staff.certificate_not_printed", {"serial": number})
        else:
            self._queue("staff.receipt_not_printed", {"tracking_no": number})

    def _queue(self, kind: str, body: dict[str, str]) -> None:
        try:
            queue_event(self._sink, kind, {"terminal_id": self._terminal_id,
                                           "at": self._clock.wall(), **body})
        except Exception:  # a full disk must not stop a device's worker
            log.exception("could not queue %s", kind)
