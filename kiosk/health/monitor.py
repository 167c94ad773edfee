"""Device health as the terminal sees it: read off the devices' workers, never off the devices.

Each DeviceWorker polls its own device and caches the answer with its time (devices/worker.py);
this module only reads those caches, so the UI and the session never wait on a device.
"""

from __future__ import annotations

from collections.abc import Mapping

from devices.fitted import DeviceSet
from devices.status import DeviceStatus


class HealthMonitor:
    def __init__(self, devices: DeviceSet) -> None:
        self._devices = devices

    def by_kind(self) -> Mapping[str, DeviceStatus]:
        """One status per fitted kind, for deciding what can be offered: a kind fitted several
        times is usable while any one of its devices is."""
        best: dict[str, DeviceStatus] = {}
        for w in self._devices:
            status = w.report().status
            if w.kind not in best or (status.usable and not best[w.kind].usable):
                best[w.kind] = status
        return best

    def refresh(self) -> None:
        """Ask every device now (each within its deadline); tests and the CLI use this."""
        self._devices.refresh_all()
