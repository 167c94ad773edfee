"""One health poller for all devices: adapter errors become status, never crashes.

As in Home Assistant's coordinator pattern, the poller is the only caller of `status()`;
everything else reads the last snapshot, so the UI never waits on a device.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from devices.status import DeviceStatus
from kiosk.device_set import DeviceSet

log = logging.getLogger(__name__)


class DeviceHealth:
    def __init__(
        self,
        devices: DeviceSet,
        interval_s: float = 2.0,
        on_change: Callable[[str, DeviceStatus], None] | None = None,
    ) -> None:
        self._devices = devices
        self._interval_s = interval_s
        self._on_change = on_change
        self._lock = threading.Lock()
        self._statuses: dict[str, DeviceStatus] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.poll_once()

    def snapshot(self) -> Mapping[str, DeviceStatus]:
        with self._lock:
            return dict(self._statuses)

    def poll_once(self) -> None:
        for kind, device in self._devices.fitted().items():
            try:
                status = device.status()
            except Exception as e:  # a library error must not take the kiosk down
                log.exception("status of %s failed", kind)
                status = DeviceStatus.fault("adapter_error", f"{type(e).__name__}: {e}")
            with self._lock:
                before = self._statuses.get(kind)
                changed = before is not None and before != status  # the first poll is no change
                self._statuses[kind] = status
            if changed and self._on_change is not None:
                self._on_change(kind, status)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="device-health", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.poll_once()
