"""In-memory printers for unit tests: keep what they printed, fail on command."""

from __future__ import annotations

from devices.printer.protocol import PrintFailure, PrintResult, Receipt
from devices.status import DeviceState, DeviceStatus


class FakePrintDevice:
    """What the fake receipt and certificate printers share: a status and a failure on cue."""

    def __init__(self) -> None:
        self._status = DeviceStatus.ready()
        self._fail_next: PrintFailure | None = None

    def set_status(self, status: DeviceStatus) -> None:
        self._status = status

    def fail_next(self, failure: PrintFailure) -> None:
        self._fail_next = failure

    def status(self) -> DeviceStatus:
        return self._status

    def self_test(self) -> DeviceStatus:
        return self._status

    def _refusal(self) -> PrintResult | None:
        """Why this job does not print, or None when it does."""
        if self._fail_next is not None:
            failure, self._fail_next = self._fail_next, None
            return PrintResult(failure=failure, detail="fake failure")
        if self._status.state in (DeviceState.FAULT, DeviceState.OFFLINE):
            return PrintResult(failure=failure_for(self._status.reason),
                               detail=self._status.message)
        return None


class FakePrinter(FakePrintDevice):
    def __init__(self) -> None:
        super().__init__()
        self.printed: list[Receipt] = []

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        refused = self._refusal()
        if refused is not None:
            return refused
        self.printed.append(receipt)
        return PrintResult(printed_text=render_text(receipt))


def failure_for(reason: str) -> PrintFailure:
    """The print failure that a status reason code stands for."""
    known = {"paper_out": PrintFailure.PAPER_OUT, "cover_open": PrintFailure.COVER_OPEN}
    return known.get(reason, PrintFailure.OFFLINE)


def render_text(receipt: Receipt) -> tuple[str, ...]:
    """The receipt as lines of text, as a 58/80 mm printer would lay it out."""
    out = [receipt.title, "-" * 32, *receipt.lines]
    if receipt.qr_data:
        out.append(f"[QR] {receipt.qr_data}")
    if receipt.footer:
        out += ["-" * 32, receipt.footer]
    return tuple(out)
