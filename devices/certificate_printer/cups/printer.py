"""CupsCertificatePrinter (`cups`): certificates sent as PDF to a CUPS queue with pycups, the
queue's state read as the device status, and every job followed to its end.

A job is titled with the certificate's serial number only. It is purged from CUPS when it ends,
printed or not (CUPS otherwise keeps job files for a day), so that the PDF does not stay in
the spool, and so that a job a stopped queue holds is never printed, for someone else, when the
tray is refilled: the citizen is offered a reprint instead. CUPS that cannot be reached, and
a queue that does not exist, are `offline`; see status.py for the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from devices.certificate_printer.cups.config import CupsConfig
from devices.certificate_printer.cups.status import SILENT, STOPPED, QueueState
from devices.certificate_printer.protocol import CertificateDocument
from devices.config import BuildContext
from devices.printer.fake import failure_for
from devices.printer.protocol import PrintFailure, PrintResult
from devices.status import DeviceStatus, LinkReason

log = logging.getLogger(__name__)

ATTRIBUTES = ["printer-state", "printer-state-reasons", "printer-is-accepting-jobs",
              "printer-state-message"]
JOB_ATTRIBUTES = ["job-state", "job-state-reasons", "job-printer-state-message"]
COMPLETED, CANCELED, ABORTED = 9, 7, 8
NOT_FOUND = 0x0406  # IPP client-error-not-found


class CupsUnreachable(Exception):
    """CUPS does not answer, or has no such queue; the message says which."""

    def __init__(self, status: DeviceStatus) -> None:
        super().__init__(status.message)
        self.status = status


class CupsCertificatePrinter:
    def __init__(self, queue: str, *, server: str | None = None, port: int = 631,
                 job_timeout_s: float = 60.0, poll_s: float = 0.1) -> None:
        self._queue, self._server, self._port = queue, server, port
        self._job_timeout_s, self._poll_s = job_timeout_s, poll_s
        self._lock = threading.Lock()  # one job or status query at a time

    @classmethod
    def from_config(cls, config: CupsConfig, ctx: BuildContext) -> CupsCertificatePrinter:
        return cls(config.queue, server=config.server, port=config.server_port,
                   job_timeout_s=config.job_timeout_s)

    @property
    def where(self) -> str:
        return f"CUPS queue {self._queue!r} at {self._server or 'this machine'}"

    def _connect(self) -> Any:
        import cups

        try:
            if self._server is None:
                return cups.Connection()
            return cups.Connection(host=self._server, port=self._port)
        except RuntimeError as e:  # pycups: "failed to connect to server"
            raise CupsUnreachable(DeviceStatus.offline(
                LinkReason.NOT_ANSWERING, f"{self.where}: CUPS does not answer ({e})")) from e

    def _ask(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        import cups

        try:
            return call(*args, **kwargs)
        except cups.IPPError as e:
            code = e.args[0] if e.args else None
            if code == NOT_FOUND:
                raise CupsUnreachable(DeviceStatus.offline(
                    LinkReason.NOT_CONNECTED, f"{self.where}: no such queue")) from e
            raise CupsUnreachable(DeviceStatus.offline(
                LinkReason.NOT_ANSWERING, f"{self.where}: {what} refused: {e}")) from e
        except (cups.HTTPError, RuntimeError) as e:
            raise CupsUnreachable(DeviceStatus.offline(
                LinkReason.NOT_ANSWERING, f"{self.where}: CUPS does not answer ({e})")) from e

    def _queue_state(self, conn: Any) -> QueueState:
        attrs = self._ask("status", conn.getPrinterAttributes, self._queue,
                          requested_attributes=ATTRIBUTES)
        return QueueState.from_attributes(attrs)

    def status(self) -> DeviceStatus:
        with self._lock:
            try:
                return self._queue_state(self._connect()).status()
            except CupsUnreachable as e:
                return e.status

    def self_test(self) -> DeviceStatus:
        return self.status()

    def print_certificate(self, document: CertificateDocument) -> PrintResult:
        with self._lock:
            try:
                conn = self._connect()
                before = self._queue_state(conn).status()
                if not before.usable:
                    return PrintResult(failure=failure_for(before.reason), detail=before.message)
                job = self._send(conn, document)
            except CupsUnreachable as e:
                return PrintResult(failure=PrintFailure.OFFLINE, detail=e.status.message)
            try:
                result = self._follow(conn, job, document)
            finally:
                self._purge(conn, job)
            if result.failure is PrintFailure.OFFLINE and result.detail.startswith(SILENT):
                why = result.detail.removeprefix(SILENT)
                self._stop_silent(conn, why)
                return PrintResult(failure=PrintFailure.OFFLINE, detail=why)
            return result

    def _send(self, conn: Any, document: CertificateDocument) -> int:
        title = document.serial_no  # never the holder's name: CUPS keeps job titles
        job = int(self._ask("create job", conn.createJob, self._queue, title, {}))
        try:
            self._ask("send", conn.startDocument, self._queue, job, title, "application/pdf", 1)
            self._ask("send", conn.writeRequestData, document.pdf, len(document.pdf))
            self._ask("send", conn.finishDocument, self._queue)
        except CupsUnreachable:
            self._purge(conn, job)
            raise
        return job

    def _follow(self, conn: Any, job: int, document: CertificateDocument) -> PrintResult:
        """Until CUPS says the job completed; a stopped queue, a cancelled job or the time
        limit end it as not printed."""
        deadline = time.monotonic() + self._job_timeout_s
        while True:
            try:
                attrs = self._ask("job state", conn.getJobAttributes, job,
                                  requested_attributes=JOB_ATTRIBUTES)
                state = int(attrs.get("job-state", 0))
                if state == COMPLETED:
                    return PrintResult(printed_text=(document.title, document.serial_no))
                if state in (CANCELED, ABORTED):
                    return PrintResult(failure=PrintFailure.FAULT,
                                       detail=f"{self.where}: job {job} was "
                                              f"{'cancelled' if state == CANCELED else 'aborted'}")
                queue = self._queue_state(conn)
            except CupsUnreachable as e:
                return PrintResult(failure=PrintFailure.OFFLINE, detail=e.status.message)
            if queue.state == STOPPED:
                now = queue.status()
                return PrintResult(failure=failure_for(now.reason), detail=now.message)
            if time.monotonic() >= deadline:
                return PrintResult(failure=PrintFailure.OFFLINE,
                                   detail=f"{SILENT}{self.where}: job {job} did not finish "
                                          f"within {self._job_timeout_s:g} s")
            time.sleep(self._poll_s)

    def _stop_silent(self, conn: Any, why: str) -> None:
        """The printer took a job and never finished it: the queue is stopped, saying so, so
        that every process (and staff) sees it offline until a technician starts it again."""
        try:
            self._ask("stop queue", conn.disablePrinter, self._queue, reason=SILENT + why)
        except CupsUnreachable as e:
            log.warning("could not stop %s: %s", self.where, e)

    def paper_replaced(self) -> DeviceStatus:
        """A technician refilled the tray or mended the printer: the queue takes jobs again."""
        with self._lock:
            try:
                conn = self._connect()
                self._ask("start queue", conn.enablePrinter, self._queue)
                self._ask("start queue", conn.acceptJobs, self._queue)
                return self._queue_state(conn).status()
            except CupsUnreachable as e:
                return e.status

    def _purge(self, conn: Any, job: int) -> None:
        """Cancel the job if it is still there, and drop its file and its history (a job that
        was printing is purged once CUPS has stopped its backend)."""
        deadline = time.monotonic() + 5.0
        try:
            while True:
                self._ask("purge", conn.cancelJob, job, purge_job=True)
                if job not in self._ask("purge", conn.getJobs, which_jobs="all") \
                        or time.monotonic() >= deadline:
                    return
                time.sleep(self._poll_s)
        except CupsUnreachable as e:
            log.warning("could not purge job %s: %s", job, e)
