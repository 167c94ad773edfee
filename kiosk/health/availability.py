"""Which services can be offered right now, derived from device status and the network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from devices.status import DeviceStatus
from kiosk.config.catalogue import Service


def unavailable_reason(
    service: Service, statuses: Mapping[str, DeviceStatus], online: bool | None
) -> str | None:
    """None when the service can be offered, else a reason code such as `needs_printer`.

    A device that is not fitted is absent from `statuses`. The outbox makes submissions safe
    offline, so only services that must ask the back office now (e.g. status queries) need
    the network; an unknown network state (`None`, nothing tried yet) counts as online.
    """
    for need in service.needs:
        if need == "network":
            if online is False:
                return "needs_network"
            continue
        status = statuses.get(need)
        if status is None or not status.usable:
            return f"needs_{need}"
    return None


def available_services(
    services: Iterable[Service], statuses: Mapping[str, DeviceStatus], online: bool | None
) -> dict[str, str | None]:
    return {s.id: unavailable_reason(s, statuses, online) for s in services}
