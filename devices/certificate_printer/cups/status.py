"""What CUPS says about a queue, as a device status.

CUPS reports a printer as `printer-state` (3 idle, 4 processing, 5 stopped), whether it
accepts jobs, and `printer-state-reasons`: IPP keywords with a severity suffix (RFC 8011
§5.4.12, PWG 5100.9): `media-empty-error`, `media-low-warning`, `offline-report`. A backend
that finds the tray empty stops the queue with `media-empty-error`; when the queue is started
again the reason stays until the next job clears it, so an idle queue with an old error is
`degraded` (usable: the next job will tell), a stopped one is a `fault`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from devices.status import DeviceState, DeviceStatus, LinkReason

IDLE, PROCESSING, STOPPED = 3, 4, 5
# The adapter stops a queue whose printer swallowed a job without finishing it, with this
# at the start of the queue's message: the queue is then `offline`, not answering.
SILENT = "kiosk: printer not answering: "

# IPP reason keyword -> (our reason code, what a technician reads).
_REASONS = {
    "media-empty": ("paper_out", "the A4 tray is empty"),
    "media-needed": ("paper_out", "the A4 tray is empty"),
    "media-low": ("paper_low", "the A4 tray is nearly empty"),
    "media-jam": ("paper_jam", "paper is jammed"),
    "cover-open": ("cover_open", "a cover is open"),
    "door-open": ("cover_open", "a door is open"),
    "interlock-open": ("cover_open", "an interlock is open"),
    "toner-empty": ("toner_out", "the toner is empty"),
    "marker-supply-empty": ("toner_out", "the toner is empty"),
    "toner-low": ("toner_low", "the toner is low"),
    "marker-supply-low": ("toner_low", "the toner is low"),
    "offline": ("not_answering", "the printer does not answer CUPS"),
    "connecting-to-device": ("not_answering", "CUPS cannot reach the printer"),
    "timed-out": ("not_answering", "the printer does not answer CUPS"),
    "shutdown": ("not_answering", "the printer is switched off"),
}
_OFFLINE = {"offline", "connecting-to-device", "timed-out", "shutdown"}


@dataclass(frozen=True)
class Reason:
    keyword: str  # e.g. media-empty
    severity: str  # error | warning | report

    @classmethod
    def parse(cls, text: str) -> Reason:
        for severity in ("error", "warning", "report"):
            if text.endswith("-" + severity):
                return cls(text.removesuffix("-" + severity), severity)
        return cls(text, "error" if text in _REASONS and text not in _OFFLINE else "report")

    @property
    def code(self) -> tuple[str, str]:
        return _REASONS.get(self.keyword, ("printer_error", f"CUPS reports {self.keyword}"))


@dataclass(frozen=True)
class QueueState:
    state: int
    accepting: bool
    reasons: tuple[Reason, ...]
    message: str = ""

    @classmethod
    def from_attributes(cls, attrs: dict[str, object]) -> QueueState:
        raw = attrs.get("printer-state-reasons", ())
        names: Iterable[object] = (raw,) if isinstance(raw, str) else raw  # type: ignore[assignment]
        reasons = tuple(Reason.parse(str(r)) for r in names if str(r) not in ("none", ""))
        state = attrs.get("printer-state")
        return cls(state if isinstance(state, int) else STOPPED,
                   bool(attrs.get("printer-is-accepting-jobs", False)), reasons,
                   str(attrs.get("printer-state-message") or ""))

    def _first(self, severities: tuple[str, ...],
               skip: frozenset[str] = frozenset({"paused"})) -> Reason | None:
        return next((r for r in self.reasons
                     if r.severity in severities and r.keyword not in skip), None)

    def status(self) -> DeviceStatus:
        offline = next((r for r in self.reasons if r.keyword in _OFFLINE), None)
        error = self._first(("error",))
        if self.state == STOPPED and self.message.startswith(SILENT):
            return DeviceStatus.offline(LinkReason.NOT_ANSWERING,
                                        "the printer did not answer: "
                                        + self.message.removeprefix(SILENT))
        if self.state == STOPPED or not self.accepting:
            if error is not None:
                return DeviceStatus.fault(*_said(error, self.message))
            why = "the CUPS queue is stopped" if self.state == STOPPED \
                else "the CUPS queue does not accept jobs"
            return DeviceStatus.fault("queue_stopped", _with(why, self.message))
        if offline is not None and self.state == PROCESSING:
            return DeviceStatus.offline(LinkReason.NOT_ANSWERING, offline.code[1])
        if error is not None and self.state == PROCESSING:
            return DeviceStatus.fault(*_said(error, self.message))
        if error is not None:  # idle again after a stop: the next job tells whether it is fixed
            code, words = error.code
            return DeviceStatus(DeviceState.DEGRADED, code,
                                f"CUPS last reported: {words}; the queue was started again")
        warning = self._first(("warning",))
        if warning is not None:
            return DeviceStatus(DeviceState.DEGRADED, *warning.code)
        if self.state == PROCESSING:
            return DeviceStatus(DeviceState.BUSY)
        return DeviceStatus.ready()


def _with(words: str, message: str) -> str:
    return f"{words} ({message})" if message and message not in words else words


def _said(reason: Reason, message: str) -> tuple[str, str]:
    code, words = reason.code
    return code, _with(words, message)
