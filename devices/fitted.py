"""The devices a terminal has: each fitted device behind its own DeviceWorker.

Built from (kind, config) pairs through the registry. A simulator is built only where
simulators are allowed; an adapter that this build does not have yet is refused, never
replaced by a stand-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from devices import registry
from devices.camera.protocol import Camera
from devices.certificate_printer.protocol import CertificatePrinter
from devices.config import AdapterConfig, BuildContext
from devices.id_reader.protocol import IdReader
from devices.locker.protocol import Locker
from devices.printer.protocol import ReceiptPrinter
from devices.status import StatusReport
from devices.worker import DeviceWorker


class DeviceBuildError(Exception):
    """A fitted device cannot be built; `key` is its place in the profile (devices.printer)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def worker_names(kind: str, count: int) -> list[str]:
    """`printer`; `id_reader.1`, `id_reader.2` ... where a kind is fitted several times."""
    return [kind] if count == 1 else [f"{kind}.{i}" for i in range(1, count + 1)]


class DeviceSet:
    def __init__(self, workers: Sequence[DeviceWorker[Any]] = ()) -> None:
        self._workers = list(workers)

    @classmethod
    def around(cls, devices: Mapping[str, object | Sequence[object]], *,
               call_timeout_s: float = 3.0, clock: Callable[[], float] = time.monotonic,
               on_change: Callable[[str, StatusReport], None] | None = None,
               poll_interval_s: float | None = None) -> DeviceSet:
        """Workers around ready-made devices (fakes in tests and scenes); by default no
        polling: their statuses are refreshed on request."""
        workers: list[DeviceWorker[Any]] = []
        for kind_name, given in devices.items():
            spec = registry.kind(kind_name)
            items = list(given) if isinstance(given, list | tuple) else [given]
            if len(items) > 1 and not spec.many:
                raise ValueError(f"only one {kind_name} can be fitted")
            for name, device in zip(worker_names(kind_name, len(items)), items, strict=True):
                workers.append(DeviceWorker(name, kind_name, device, call_timeout_s=call_timeout_s,
                                            poll_interval_s=poll_interval_s, clock=clock,
                                            on_change=on_change))
        return cls(workers)

    # -- what is fitted
    def __iter__(self) -> Iterator[DeviceWorker[Any]]:
        return iter(self._workers)

    def of_kind(self, kind_name: str) -> list[DeviceWorker[Any]]:
        registry.kind(kind_name)  # a misspelt kind is a bug, not "not fitted"
        return [w for w in self._workers if w.kind == kind_name]

    def _one(self, kind_name: str) -> DeviceWorker[Any] | None:
        found = self.of_kind(kind_name)
        return found[0] if found else None

    @property
    def id_readers(self) -> list[DeviceWorker[IdReader]]:
        return self.of_kind("id_reader")

    @property
    def printer(self) -> DeviceWorker[ReceiptPrinter] | None:
        return self._one("printer")

    @property
    def certificate_printer(self) -> DeviceWorker[CertificatePrinter] | None:
        return self._one("certificate_printer")

    @property
    def locker(self) -> DeviceWorker[Locker] | None:
        return self._one("locker")

    @property
    def camera(self) -> DeviceWorker[Camera] | None:
        return self._one("camera")

    # -- lifecycle
    def start(self) -> None:
        for w in self._workers:
            w.start()

    def refresh_all(self) -> None:
        """Ask every device for its status now, all at once, each within its own deadline."""
        for pending in [w.begin_refresh() for w in self._workers]:
            pending.wait()

    def stop(self) -> None:
        for w in self._workers:
            w.stop()


def build_device_set(
    fitted: Sequence[tuple[str, Sequence[AdapterConfig]]],
    ctx: BuildContext,
    *,
    allow_simulators: bool,
    call_timeout_s: float = 3.0,
    clock: Callable[[], float] = time.monotonic,
    on_change: Callable[[str, StatusReport], None] | None = None,
) -> DeviceSet:
    """One worker per fitted device, in the order given. Raises DeviceBuildError."""
    workers: list[DeviceWorker[Any]] = []
    for kind_name, configs in fitted:
        names = worker_names(kind_name, len(configs))
        for i, (name, config) in enumerate(zip(names, configs, strict=True)):
            key = f"devices.{kind_name}" + (f"[{i}]" if len(configs) > 1 else "")
            spec = registry.adapter_of(kind_name, config)
            if spec.simulator and not allow_simulators:
                raise DeviceBuildError(key, "simulators are not allowed")
            if spec.build is None:
                raise DeviceBuildError(
                    f"{key}.adapter", f"{spec.name!r} is not available in this build yet (use "
                    "`kiosk demo` or a profile with simulators)")
            device = spec.build(config, ctx)
            workers.append(DeviceWorker(name, kind_name, device, call_timeout_s=call_timeout_s,
                                        poll_interval_s=spec.poll_interval_s, clock=clock,
                                        on_change=on_change))
    return DeviceSet(workers)

