"""The hand-over steps of a session: print a receipt, open a locker door, ask the back office.

Each returns an `Outcome` and turns device trouble into a value the screens can explain.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from devices.locker.protocol import DoorOutcome
from devices.printer.protocol import PrintFailure, PrintResult, Receipt
from kiosk.config.catalogue import Service, load_catalogue
from kiosk.session.view import ApplicationSummary, Outcome

if TYPE_CHECKING:
    from kiosk.session.machine import Session

def print_receipt_for(session: Session, service: Service, tracking_no: str) -> Outcome:
    printer = session.d.devices.printer
    lang = session.language
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.d.clock.wall()))
    name = service.title.get(lang)
    offline = session.d.online() is False
    lines = [
        ("事项" if lang == "zh" else "Service") + f": {name}",
        ("办件编号" if lang == "zh" else "Tracking no.") + f": {tracking_no}",
        ("时间" if lang == "zh" else "Time") + f": {when}",
        ("终端" if lang == "zh" else "Terminal") + f": {session.d.terminal_id}",
    ]
    if offline:
        lines.append(
            "网络恢复后自动提交" if lang == "zh" else "Will be sent when the network is back"
        )
    receipt = Receipt(
        title="申请回执" if lang == "zh" else "Application receipt",
        lines=tuple(lines),
        qr_data=(session.d.receipt_qr_prefix + tracking_no) if session.d.receipt_qr_prefix
        else None,
        footer="请妥善保管本回执" if lang == "zh" else "Please keep this receipt",
    )
    if printer is None:
        result_ok, failure = False, "not_fitted"
    else:
        # A printer that never answers must not hold the citizen: after the limit the
        # receipt counts as not printed (the application is already safe in the outbox).
        called = session.call("printer.print_receipt", lambda: printer.print_receipt(receipt),
                              PrintResult(failure=PrintFailure.FAULT),
                              timeout_s=session.d.timings.print_timeout_s)
        result = called.value
        result_ok = result.ok
        failure = called.problem or (result.failure.value if result.failure else "")
    if result_ok:
        session.d.audit.record("receipt_printed", service=service.id)
    else:
        session.d.audit.record("receipt_print_failed", failure=failure)
    return Outcome(service.output, tracking_no=tracking_no, printed=result_ok)


def collect_from_locker(session: Session, who: str) -> Outcome:
    items = session.d.inventory.for_citizen(who)
    locker = session.d.devices.locker
    if not items or locker is None:
        return Outcome("locker", nothing_to_collect=not items)
    door = items[0].door
    called = session.call("locker.open_door", lambda: locker.open_door(door), DoorOutcome.FAULT)
    result = called.value
    if called.problem in ("timeout", "still_hung"):
        # The board may still open the door: watch it as if open (poll_door tells whether
        # the certificate was taken, and alerts staff if the door stays open).
        session.d.audit.record("locker_door_failed", door=door, outcome="timeout")
        return Outcome("locker", door=door, door_open=True)
    if result is DoorOutcome.OPENED:
        session.d.audit.record("locker_door_opened", door=door)
        return Outcome("locker", door=door, door_open=True)
    session.d.audit.record("locker_door_failed", door=door, outcome=result.value)
    return Outcome("locker", door=door, door_open=False)


def query_applications(session: Session, who: str) -> Outcome:
    directory = session.d.directory
    limit = session.d.timings.backoffice_timeout_s + 1  # the client has its own timeout too
    found = session.call("backoffice.applications", lambda: directory.applications_for(who),
                         None, timeout_s=limit).value if directory is not None else None
    if found is None:
        return Outcome("screen", applications=None)
    titles = {s.id: s.title for s in load_catalogue().service}
    apps = tuple(
        ApplicationSummary(
            tracking_no=str(a.get("tracking_no", "")),
            service_id=str(a.get("service_id", "")),
            status=str(a.get("status", "")),
            title=titles.get(str(a.get("service_id", ""))),
        )
        for a in found
    )
    return Outcome("screen", applications=apps)
