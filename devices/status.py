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


@dataclass(frozen=True)
class DeviceStatus:
    state: DeviceState
    reason: str = ""  # a stable code for logs and the staff screen, e.g. "paper_out"
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
    def offline(cls, reason: str = "not_connected", message: str = "") -> DeviceStatus:
        return cls(DeviceState.OFFLINE, reason, message or "device not connected")
