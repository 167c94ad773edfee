"""An in-memory identity reader for unit tests: the test decides what it reads."""

from __future__ import annotations

from collections import deque

from devices.id_reader.protocol import Identity, ReadFailure, ReadResult
from devices.status import DeviceStatus


class FakeIdReader:
    def __init__(self) -> None:
        self._status = DeviceStatus.ready()
        self._results: deque[ReadResult] = deque()
        self._present = False
        self.reads = 0
        self.stops = 0

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def present(self, identity: Identity) -> None:
        self._results.append(ReadResult(identity=identity))
        self._present = True

    def fail_next(self, failure: ReadFailure) -> None:
        self._results.append(ReadResult(failure=failure))

    def remove_card(self) -> None:
        self._present = False

    def status(self) -> DeviceStatus:
        return self._status

    def read(self) -> ReadResult:
        self.reads += 1
        if not self._status.usable:
            return ReadResult(failure=ReadFailure.DEVICE_FAULT)
        if self._results:
            return self._results.popleft()
        return ReadResult(failure=ReadFailure.NO_CARD)

    def stop(self) -> None:
        self.stops += 1

    def card_present(self) -> bool:
        return self._present

    def self_test(self) -> DeviceStatus:
        return self._status
