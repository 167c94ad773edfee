"""Certificates issued on the spot (a service with `issues = "certificate"`): the back office
issues the document for the identified citizen, it is laid out as an A4 PDF and printed on
the certificate printer. Nothing goes to the outbox first: a certificate is issued now or not
at all, and the citizen is told which. Issuing is idempotent by tracking number (asking again
after a dropped answer gives the same certificate) and the back office gives an unprinted
certificate again on a later visit, so a certificate is never issued twice. The PDF is kept
in the session, for "print again" once the printer can print, and wiped with it.

Called by `Session` (machine.py) under its lock, like results.py."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from devices.certificate_printer.protocol import CertificateDocument
from kiosk.records.submission import new_tracking_no
from kiosk.session.events import queue_event_safely
from kiosk.session.ports import CertificateIssuer, IssueAnswer
from kiosk.session.steps import handover
from kiosk.session.steps.certificate_pdf import render_certificate
from kiosk.session.view import Notice, Outcome, State

if TYPE_CHECKING:
    from kiosk.session.machine import Session

log = logging.getLogger(__name__)


def issue(s: Session) -> None:
    """From CONFIRM: ask the back office to issue the certificate (the same tracking number
    when the citizen tries again after the back office did not answer)."""
    service, identity, issuer = s.service, s.identity, s.d.certificates
    assert service is not None and identity is not None
    if issuer is None:  # no back office configured: the service is not offered
        s.go(State.CONFIRM, Notice("certificate_unavailable"))
        return
    if s.tracking_no is None:
        s.tracking_no = new_tracking_no(s.d.terminal_id, s.d.clock.wall())[0]
    tracking_no, number, name = s.tracking_no, identity.id_number, identity.name
    s.go(State.SUBMITTING)
    s.d.audit.record("certificate_requested", service=service.id, tracking_no=tracking_no)

    def work() -> tuple[IssueAnswer | None, CertificateDocument | None]:
        answer = issuer.issue_certificate(service.id, tracking_no, number, name)
        if answer is None or answer.certificate is None:
            return answer, None
        return answer, _document(answer.certificate, issuer)

    t = s.d.timings
    s._begin("issue certificate", work, lambda got: on_issued(s, *got),
             limit_s=t.backoffice_timeout_s + t.device_call_timeout_s, late=(None, None))


def _document(cert: Mapping[str, object], issuer: CertificateIssuer) -> CertificateDocument:
    pdf = render_certificate(cert, issuer.verify_base_url)
    return CertificateDocument(str(cert["serial"]), str(cert["title_zh"]), pdf)


def on_issued(s: Session, answer: IssueAnswer | None,
              document: CertificateDocument | None) -> None:
    assert s.service is not None
    if answer is not None and answer.not_eligible is not None:
        s.d.audit.record("certificate_not_eligible", service=s.service.id,
                         reason=answer.not_eligible)
        s.outcome = Outcome("certificate", tracking_no=None)
        s.go(State.DONE, Notice("certificate_not_eligible", (("why", answer.not_eligible),)))
        return
    if document is None:  # unreachable, garbage, or too slow: nothing was issued here
        s.d.audit.record("certificate_unavailable", service=s.service.id)
        s.go(State.CONFIRM, Notice("certificate_unavailable"))
        return
    s.certificate = document
    s.d.audit.record("certificate_issued", service=s.service.id, serial=document.serial_no)
    s.outcome = Outcome("certificate", tracking_no=s.tracking_no, serial_no=document.serial_no)
    start_print(s)


def start_print(s: Session) -> None:
    document, printer = s.certificate, s.d.devices.certificate_printer
    assert document is not None
    s.go(State.HANDOVER)
    limit = s.d.timings.print_timeout_s
    job = s.d.journal.begin(document.serial_no, s.d.clock.wall(), "certificate")  # 2nd: reprint
    s._begin("print certificate", lambda: handover.print_certificate(printer, document, limit),
             lambda printed: on_printed(s, document, job, printed),
             limit_s=limit + s.d.timings.device_call_timeout_s,
             late=handover.Printed(False, "timeout"))


def on_printed(s: Session, document: CertificateDocument, job: int,
               printed: handover.Printed) -> None:
    assert s.outcome is not None and s.service is not None
    s.d.journal.finish(job, printed.ok, s.d.clock.wall())
    if printed.ok:
        s.d.audit.record("certificate_printed", serial=document.serial_no)
        # The back office gives an unprinted certificate again; this one came out.
        queue_event_safely(s, "certificate.printed", {"serial": document.serial_no,
                                                      "service_id": s.service.id})
    else:
        s.d.audit.record("certificate_print_failed", serial=document.serial_no,
                         failure=printed.failure)
    s.outcome = replace(s.outcome, printed=printed.ok)
    s.go(State.DONE, None if printed.ok else Notice("print_failed_certificate"))
