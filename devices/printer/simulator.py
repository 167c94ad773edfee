"""A receipt printer simulator for the demo: prints into text files and runs out of paper.

Each receipt is written to `<out_dir>/receipt-NNNN.txt` so a technician can read what a citizen
would have been handed. The paper roll is counted: low paper is DEGRADED, no paper is a FAULT
(`paper_out`), as a real printer's DLE EOT status would say. Chosen only explicitly.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from devices.config import AdapterConfig, BuildContext
from devices.printer.fake import failure_for, render_text
from devices.printer.protocol import PrintResult, Receipt
from devices.status import DeviceState, DeviceStatus


class SimulatedPrinterConfig(AdapterConfig):
    adapter: Literal["simulator"] = "simulator"
    """The demo's printer: receipts go to text files in the data directory."""
    paper_receipts: int = Field(default=500, ge=0)
    """How many receipts the simulated roll holds."""
    low_at: int = Field(default=20, ge=0)
    """Receipts left when the roll counts as low (degraded)."""

    INSTANT: ClassVar[dict[str, Any]] = {"paper_receipts": 10**9}


class SimulatedPrinter:
    def __init__(
        self, out_dir: Path | None = None, *, paper_receipts: int = 500, low_at: int = 20
    ) -> None:
        self._out_dir = out_dir
        self._paper = paper_receipts
        self._low_at = low_at
        self._forced: DeviceStatus | None = None
        self._count = 0
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: SimulatedPrinterConfig, ctx: BuildContext) -> SimulatedPrinter:
        return cls(ctx.data_dir / "printed", paper_receipts=config.paper_receipts,
                   low_at=config.low_at)

    def set_status(self, status: DeviceStatus | None) -> None:
        """Force a status (cover open, offline); None goes back to the paper count."""
        self._forced = status

    def load_paper(self, receipts: int) -> None:
        self._paper = receipts

    def status(self) -> DeviceStatus:
        if self._forced is not None:
            return self._forced
        if self._paper <= 0:
            return DeviceStatus.fault("paper_out", "receipt paper is out")
        if self._paper <= self._low_at:
            return DeviceStatus(DeviceState.DEGRADED, "paper_low", "receipt paper is low")
        return DeviceStatus.ready()

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        status = self.status()
        if not status.usable:
            return PrintResult(failure=failure_for(status.reason), detail=status.message)
        text = render_text(receipt)
        with self._lock:
            self._paper -= 1
            self._count += 1
            n = self._count
        if self._out_dir is not None:
            self._out_dir.mkdir(parents=True, exist_ok=True)
            path = self._out_dir / f"receipt-{os.getpid()}-{n:05d}.txt"
            path.write_text("\n".join(text) + "\n", encoding="utf-8")
        return PrintResult(printed_text=text)

    def self_test(self) -> DeviceStatus:
        return self.status()
