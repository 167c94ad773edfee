"""ESC/POS real-time status: DLE EOT 1-4, each answered by one byte, checked before it is
believed.

Every DLE EOT answer has the fixed bit pattern `0xx1xx10` (bit 7 clear, bit 4 set, bit 1 set, bit 0
clear). A missing answer or one without that pattern is *not* "paper OK" (python-escpos's
`paper_status()` says so when nothing comes back: FIELD_NOTES): the printer is `offline`,
`not_answering`.

  DLE EOT 1 (printer):      bit 3 offline
  DLE EOT 2 (offline cause): bit 2 cover open, bit 5 stopped by paper end, bit 6 error
  DLE EOT 3 (error cause):   bit 3 autocutter error, bit 5 unrecoverable, bit 6 auto-recoverable
  DLE EOT 4 (paper sensor):  bits 2+3 roll near its end, bits 5+6 roll out
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.status import DeviceState, DeviceStatus, LinkReason

DLE_EOT = b"\x10\x04"
FIXED_MASK, FIXED_BITS = 0b1001_0011, 0b0001_0010
# GS r 1 (transmit paper sensor status) is not real-time: the printer answers it only once it
# has processed everything sent before it, so its answer says a job went through. Its answer
# has bits 4 and 7 clear, which no DLE EOT answer has.
JOB_DONE_REQUEST = b"\x1d\x72\x01"


def request(n: int) -> bytes:
    return DLE_EOT + bytes([n])


def well_formed(answer: int) -> bool:
    return answer & FIXED_MASK == FIXED_BITS


def job_done_answer(answer: int) -> bool:
    return answer & 0b1001_0000 == 0


class StatusUnreadable(ValueError):
    """No answer, or an answer without the fixed bits: nothing can be believed."""


@dataclass(frozen=True)
class PrinterState:
    offline: bool = False
    cover_open: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    cutter_error: bool = False
    unrecoverable: bool = False
    recoverable_error: bool = False

    @classmethod
    def parse(cls, answers: bytes) -> PrinterState:
        """The four answers to DLE EOT 1, 2, 3 and 4, in that order."""
        if len(answers) != 4:
            raise StatusUnreadable(f"{len(answers)} of 4 status answers came")
        bad = [f"DLE EOT {n}: {a:#04x}" for n, a in enumerate(answers, 1) if not well_formed(a)]
        if bad:
            raise StatusUnreadable("not a status answer: " + ", ".join(bad))
        printer, cause, error, paper = answers
        return cls(
            offline=bool(printer & 0x08),
            cover_open=bool(cause & 0x04),
            paper_near_end=paper & 0x0C == 0x0C,
            paper_out=paper & 0x60 == 0x60 or bool(cause & 0x20),
            cutter_error=bool(error & 0x08),
            unrecoverable=bool(error & 0x20),
            recoverable_error=bool(error & 0x40),
        )

    def device_status(self) -> DeviceStatus:
        """Paper out, cover open, cutter or unrecoverable error: `fault` with its reason;
        paper near its end: `degraded`; else ready."""
        if self.paper_out:
            return DeviceStatus.fault("paper_out", "the receipt roll is empty")
        if self.cover_open:
            return DeviceStatus.fault("cover_open", "the printer's cover is open")
        if self.cutter_error:
            return DeviceStatus.fault("cutter_error", "the cutter is jammed")
        if self.unrecoverable:
            return DeviceStatus.fault("unrecoverable_error", "the printer reports an error "
                                      "it cannot recover from; switch it off and on")
        if self.recoverable_error:
            return DeviceStatus.fault("recoverable_error", "the printer reports an error "
                                      "(head too hot?); it should recover by itself")
        if self.offline:
            return DeviceStatus.fault("printer_offline", "the printer says it is offline")
        if self.paper_near_end:
            return DeviceStatus(DeviceState.DEGRADED, "paper_low", "the receipt roll is nearly "
                                "empty")
        return DeviceStatus.ready()


def unreadable_status(problem: str) -> DeviceStatus:
    return DeviceStatus.offline(LinkReason.NOT_ANSWERING, f"status not readable: {problem}")
