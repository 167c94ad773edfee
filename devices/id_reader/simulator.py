"""A resident ID reader simulator for the demo and headless sessions.

It behaves like a citizen who puts a card on the reader a moment after being asked: the first
read of a waiting period starts a timer, and once it runs out the next demo citizen's card is
read. Chosen only explicitly (profile adapter "simulator" or `kiosk demo`). This first version
runs in process; the SAM serial protocol over a pty comes with the real adapter.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from devices.config import AdapterConfig, BuildContext
from devices.id_reader.protocol import DocumentKind, Identity, ReadFailure, ReadResult
from devices.status import DeviceStatus

# Fictitious people with well-formed numbers (valid check digits, tests/test_devices.py
# checks them; invented names).
DEMO_CITIZENS: tuple[Identity, ...] = (
    Identity(DocumentKind.RESIDENT_ID, "310115198001010024", "张三", "男",
             "19800101", "上海市浦东新区世纪大道100号", "20400101"),
    Identity(DocumentKind.RESIDENT_ID, "310104195503150040", "李秀英", "女",
             "19550315", "上海市徐汇区漕溪北路200号", "长期"),
    Identity(DocumentKind.RESIDENT_ID, "310106199211200035", "王伟", "男",
             "19921120", "上海市静安区南京西路300号", "20320101"),
)


class SimulatedIdReaderConfig(AdapterConfig):
    adapter: Literal["simulator"] = "simulator"
    """The demo's reader: a demo citizen's card arrives a moment after it is asked."""
    present_after_s: float = Field(default=1.5, ge=0)
    """How long the simulated citizen takes to present the card."""
    remove_after_s: float = Field(default=2.0, ge=0)
    """How long the card stays on the reader after it was read."""

    documents: tuple[str, ...] = ("resident_id", "residence_permit")
    """What the simulated reader stands in for (the identify screen names them)."""

    INSTANT: ClassVar[dict[str, Any]] = {"present_after_s": 0.0, "remove_after_s": 0.0}

    def accepts(self) -> tuple[str, ...]:
        return tuple(d for d in self.documents if d != "staff_badge")


class SimulatedIdReader:
    def __init__(
        self,
        citizens: Sequence[Identity] = DEMO_CITIZENS,
        *,
        present_after_s: float = 1.5,
        remove_after_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._next = itertools.cycle(citizens)
        self._present_after_s = present_after_s
        self._remove_after_s = remove_after_s
        self._clock = clock
        self._waiting_since: float | None = None
        self._read_at: float | None = None
        self._status = DeviceStatus.ready()
        self._failures: list[ReadFailure] = []

    @classmethod
    def from_config(cls, config: SimulatedIdReaderConfig, ctx: BuildContext) -> SimulatedIdReader:
        return cls(present_after_s=config.present_after_s, remove_after_s=config.remove_after_s)

    # -- controls, as on OctoPrint's virtual printer: tell it to misbehave --
    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def fail_next(self, failure: ReadFailure) -> None:
        self._failures.append(failure)

    # -- IdReader --
    def status(self) -> DeviceStatus:
        return self._status

    def read(self) -> ReadResult:
        if not self._status.usable:
            return ReadResult(failure=ReadFailure.DEVICE_FAULT)
        now = self._clock()
        if self._waiting_since is None or (
            self._read_at is not None and now - self._read_at > self._remove_after_s
        ):
            self._waiting_since, self._read_at = now, None
        if now - self._waiting_since < self._present_after_s:
            return ReadResult(failure=ReadFailure.NO_CARD)
        if self._failures:
            self._waiting_since = now
            return ReadResult(failure=self._failures.pop(0))
        self._read_at = now
        self._waiting_since = None
        return ReadResult(identity=next(self._next))

    def stop(self) -> None:
        """Another source won (or the wait ended): the simulated citizen starts over."""
        self._waiting_since = None

    def card_present(self) -> bool:
        # The simulated citizen takes the card back a moment after it was read.
        return self._read_at is not None and self._clock() - self._read_at < self._remove_after_s

    def self_test(self) -> DeviceStatus:
        return self._status
