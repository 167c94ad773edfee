"""Durable outbox of opaque, idempotent envelopes and the worker that delivers them."""

from offline_queue.cipher import FernetCipher, PayloadCipher, PayloadDecryptError
from offline_queue.envelope import Envelope, OutboxStats
from offline_queue.outbox import Outbox
from offline_queue.sync import SyncReport, SyncWorker
from offline_queue.transport import DeliveryOutcome, DeliveryResult, HttpTransport, Transport

__all__ = [
    "DeliveryOutcome",
    "DeliveryResult",
    "Envelope",
    "FernetCipher",
    "HttpTransport",
    "Outbox",
    "OutboxStats",
    "PayloadCipher",
    "PayloadDecryptError",
    "SyncReport",
    "SyncWorker",
    "Transport",
]
