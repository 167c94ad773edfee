"""Hand-over steps: print the receipt, open a locker door, watch it; and the receipt's layout.

Each returns what happened; device trouble is a value the machine turns into words.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.certificate_printer.protocol import CertificateDocument, CertificatePrinter
from devices.locker.protocol import DoorOutcome, DoorState, Locker
from devices.printer.protocol import PrintFailure, PrintResult, Receipt, ReceiptPrinter
from devices.worker import CallProblem, DeviceWorker
from kiosk.config.catalogue import Service


def receipt_for(service: Service, tracking_no: str, *, lang: str, wall: float, terminal_id: str,
                offline: bool, qr_prefix: str, logo: bytes | None = None) -> Receipt:
    """The application receipt: no more personal data than the tracking number needs."""
    zh = lang == "zh"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(wall))
    lines = [
        ("事项" if zh else "Service") + f": {service.title.get(lang)}",
        ("办件编号" if zh else "Tracking no.") + f": {tracking_no}",
        ("时间" if zh else "Time") + f": {when}",
        ("终端" if zh else "Terminal") + f": {terminal_id}",
    ]
    if offline:
        lines.append("网络恢复后自动提交" if zh else "Will be sent when the network is back")
    return Receipt(
        title="申请回执" if zh else "Application receipt",
        lines=tuple(lines),
        qr_data=(qr_prefix + tracking_no) if qr_prefix else None,
        footer="请妥善保管本回执" if zh else "Please keep this receipt",
        logo=logo,
    )


@dataclass(frozen=True)
class Printed:
    ok: bool
    failure: str = ""  # a PrintFailure, or the call's trouble (timeout, still_hung, error)


def print_receipt(printer: DeviceWorker[ReceiptPrinter] | None, receipt: Receipt,
                  timeout_s: float) -> Printed:
    """A printer that never answers must not hold the citizen: after the limit the receipt
    counts as not printed (the application is already safe in the outbox)."""
    return _print(printer, lambda p: p.print_receipt(receipt), "print receipt", timeout_s)


def print_certificate(printer: DeviceWorker[CertificatePrinter] | None,
                      document: CertificateDocument, timeout_s: float) -> Printed:
    return _print(printer, lambda p: p.print_certificate(document), "print certificate",
                  timeout_s)


def _print(printer: DeviceWorker[Any] | None, job: Callable[[Any], PrintResult], what: str,
           timeout_s: float) -> Printed:
    if printer is None:
        return Printed(False, "not_fitted")
    called = printer.call(job, PrintResult(failure=PrintFailure.FAULT), timeout_s=timeout_s,
                          what=what)
    printer.refresh()  # paper may have run out: the next citizen is told before, not after
    result = called.value
    if called.problem is not None:
        return Printed(False, called.problem)
    return Printed(result.ok, result.failure.value if result.failure else "")


@dataclass(frozen=True)
class DoorOpened:
    outcome: DoorOutcome
    late: bool = False  # the board did not answer in time: it may still open the door
    door_count: int = 0


def open_door(locker: DeviceWorker[Locker], door: int, timeout_s: float) -> DoorOpened:
    called = locker.call(lambda lk: (lk.open_door(door), lk.door_count),
                         (DoorOutcome.FAULT, 0), timeout_s=timeout_s, what=f"open door {door}")
    outcome, count = called.value
    late = called.problem in (CallProblem.TIMEOUT, CallProblem.STILL_HUNG)
    return DoorOpened(outcome, late, count)


def door_state(locker: DeviceWorker[Locker] | None, door: int,
               timeout_s: float) -> DoorState | None:
    """The door and item sensors, or None when the board does not answer."""
    if locker is None:
        return None
    return locker.call(lambda lk: lk.door_state(door), None, timeout_s=timeout_s,
                       what=f"door {door} sensors").value
