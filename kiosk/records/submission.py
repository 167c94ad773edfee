"""What a session hands to the outbox: application envelopes and terminal events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from devices.id_reader.protocol import Identity

APPLICATION_KIND = "application.submit"


class EnvelopeSink(Protocol):
    """The durable outbox as the session sees it: returns once the envelope is on disk."""

    def enqueue(self, kind: str, payload: bytes, idempotency_key: str) -> object: ...


@dataclass(frozen=True)
class QueuedApplication:
    tracking_no: str
    idempotency_key: str


def new_tracking_no(terminal_id: str, at: float) -> tuple[str, str]:
    """A tracking number made on the terminal (so the citizen has it offline), and the
    idempotency key it comes from."""
    key = uuid.uuid4().hex
    day = time.strftime("%Y%m%d", time.localtime(at))
    return f"{terminal_id}-{day}-{key[:8].upper()}", key


def queue_application(
    sink: EnvelopeSink,
    *,
    terminal_id: str,
    service_id: str,
    identity: Identity,
    form: Mapping[str, str],
    submitted_at: float,
    face: Mapping[str, object] | None = None,
) -> QueuedApplication:
    """Write the application durably; the tracking number is made here, so the citizen has it
    even when the back office is unreachable."""
    tracking_no, key = new_tracking_no(terminal_id, submitted_at)
    payload = {
        "tracking_no": tracking_no,
        "service_id": service_id,
        "terminal_id": terminal_id,
        "citizen": {"id_number": identity.id_number, "name": identity.name},
        "form": dict(form),
        "submitted_at": submitted_at,
    }
    if face is not None:  # how the face check went; a deferred one carries its frame
        payload["face"] = dict(face)
    sink.enqueue(APPLICATION_KIND, json.dumps(payload, ensure_ascii=False).encode(), key)
    return QueuedApplication(tracking_no, key)


def queue_event(sink: EnvelopeSink, kind: str, body: Mapping[str, object],
                key: str | None = None) -> None:
    """A terminal event (staff call, locker collection): no personal data in `body`. `key`
    makes it once only: queued again after a crash with the same key, it is not a second."""
    sink.enqueue(kind, json.dumps(dict(body), ensure_ascii=False).encode(),
                 key or uuid.uuid4().hex)
