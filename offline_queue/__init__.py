"""Durable outbox of opaque, idempotent envelopes and the worker that delivers them.

The names are found on first use (PEP 562): a process that only opens its outbox, as a
terminal does on its way to the first frame, does not import the delivery side (requests).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from offline_queue.cipher import FernetCipher, PayloadCipher, PayloadDecryptError
    from offline_queue.envelope import Envelope, OutboxStats
    from offline_queue.outbox import Outbox
    from offline_queue.sync import SyncReport, SyncWorker
    from offline_queue.transport import (
        DeliveryOutcome,
        DeliveryResult,
        HttpTransport,
        Transport,
    )

_HOMES = {
    "FernetCipher": "cipher", "PayloadCipher": "cipher", "PayloadDecryptError": "cipher",
    "Envelope": "envelope", "OutboxStats": "envelope",
    "Outbox": "outbox",
    "SyncReport": "sync", "SyncWorker": "sync",
    "DeliveryOutcome": "transport", "DeliveryResult": "transport",
    "HttpTransport": "transport", "Transport": "transport",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'offline_queue' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"offline_queue.{home}"), name)
    globals()[name] = value
    return value
