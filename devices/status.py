"""The status every device reports: one small closed set shared by all device kinds.

Expected hardware trouble (paper out, card pulled, door jammed) is a status or a returned
result, never an exception; exceptions mean bugs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeviceState(StrEnum):
    READY = "ready"
    BUSY = "busy"
    DEGRADED = "degraded"  # works, but e.g. paper is low
    FAULT = "fault"  # present but unusable: reason code + human message
    OFFLINE = "offline"  # not connected / not answering

    @property
    def usable(self) -> bool:
        """A device in this state can take a job (perhaps after the current one)."""
        return self in (DeviceState.READY, DeviceState.BUSY, DeviceState.DEGRADED)


class LinkReason(StrEnum):
    """Reasons any device can have, whatever its kind (the worker and the links give these)."""

    NOT_CONNECTED = "not_connected"  # the port, socket or reader is not there
    NOT_ANSWERING = "not_answering"  # a call ran past its deadline: the device is hung
    ADAPTER_ERROR = "adapter_error"  # the adapter raised: a bug, reported as a status


@dataclass(frozen=True)
class DeviceStatus:
    state: DeviceState
    reason: str = ""  # a stable code (a kind's reason enum) for logs and the staff screen
    message: str = ""  # a sentence for technicians; citizens never see codes

    @property
    def usable(self) -> bool:
        return self.state.usable

    @classmethod
    def ready(cls) -> DeviceStatus:
        return cls(DeviceState.READY)

    @classmethod
    def fault(cls, reason: str, message: str) -> DeviceStatus:
        return cls(DeviceState.FAULT, reason, message)

    @classmethod
    def offline(cls, reason: str = LinkReason.NOT_CONNECTED, message: str = "") -> DeviceStatus:
        return cls(DeviceState.OFFLINE, reason, message or "device not connected")


@dataclass(frozen=True)
class StatusReport:
    """A device's last known status and how old it is (the worker's cache)."""

    status: DeviceStatus
    checked_at: float  # when the device last answered, or was found not to (monotonic s)
    since: float  # when it entered this state and reason

    def age(self, now: float) -> float:
        return max(0.0, now - self.checked_at)
