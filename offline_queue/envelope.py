"""Value types the outbox hands out. Immutable so a worker cannot mutate what it was given."""

from __future__ import annotations

from dataclasses import dataclass

PENDING = "pending"
IN_FLIGHT = "in_flight"
DELIVERED = "delivered"
PARKED = "parked"
STATUSES: tuple[str, ...] = (PENDING, IN_FLIGHT, DELIVERED, PARKED)


@dataclass(frozen=True)
class Envelope:
    id: int
    idempotency_key: str
    kind: str
    payload: bytes  # plaintext: the outbox decrypts before handing an envelope out
    created_at: float
    attempts: int
    status: str
    last_error: str | None
    next_attempt_at: float
    server_answer: str | None = None  # what the back office last said of it, word for word


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    in_flight: int
    delivered: int
    parked: int
    # Age of the oldest envelope not yet delivered (pending or in flight); None when there is none.
    oldest_pending_age_s: float | None
