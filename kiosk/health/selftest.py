"""The terminal's self-test: every configured device exercised through its worker, then disk,
the back office (reachable, our credential, its clock), the outbox and the enrolment; a
readiness report of it all. `kiosk provision selftest` and the technician's screen both run
this. Every item that fails says what to do.

Nothing here reads or keeps personal data: a test card read says which kind of document it
was, never whose; a camera frame is looked at for a face or a QR code and dropped.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devices import registry
from devices.fitted import DeviceSet
from devices.printer.protocol import Receipt
from devices.status import DeviceState, DeviceStatus
from devices.worker import DeviceWorker
from kiosk.config.profile import Profile
from kiosk.health.selftest_devices import exercise
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.records.audit import AuditLog
from kiosk.records.enrolment import EnrolmentFiles
from offline_queue import Outbox

REPORT_FILE = "readiness.json"
DISK_MIN_BYTES = 2 * 1024**3
MAX_CLOCK_SKEW_S = 30.0  # receipts, audit records and QR tokens all carry the time
OUTBOX_OLDEST_S = 15 * 60


@dataclass(frozen=True)
class Item:
    name: str  # what was tested: a device's worker name, or disk, clock, ...
    ok: bool
    detail: str  # what was found
    do: str = ""  # when not ok: what the technician does about it
    took_s: float = 0.0


@dataclass(frozen=True)
class Report:
    terminal_id: str
    at: float
    items: tuple[Item, ...]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {"terminal_id": self.terminal_id, "at": self.at,
                "at_text": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at)),
                "ok": self.ok, "passed": sum(i.ok for i in self.items),
                "failed": sum(not i.ok for i in self.items), "versions": self.versions,
                "items": [asdict(i) for i in self.items]}

    def save(self, data_dir: Path) -> Path:
        """Kept on the terminal as readiness.json (the last one), written whole or not at all."""
        path = data_dir / REPORT_FILE
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n",
                       encoding="utf-8")
        tmp.replace(path)
        return path

    def keep(self, data_dir: Path, audit: AuditLog) -> Path:
        """Saved (readiness.json) and audited, which items failed by name; the file."""
        path = self.save(data_dir)
        audit.record("selftest_run", ok=self.ok, passed=sum(i.ok for i in self.items),
                     failed=",".join(i.name for i in self.items if not i.ok) or None)
        return path

    def receipt(self) -> Receipt:
        """The summary, as the receipt printer prints it for the technician's records."""
        lines = [f"终端 Terminal: {self.terminal_id}",
                 "时间 Time: " + time.strftime("%Y-%m-%d %H:%M", time.localtime(self.at))]
        for i in self.items:
            lines.append(f"{'OK  ' if i.ok else 'FAIL'} {i.name}: {i.detail}"[:120])
            if not i.ok and i.do:
                lines.append(f"     -> {i.do}"[:120])
        verdict = "就绪 READY" if self.ok else "未就绪 NOT READY"
        return Receipt("自检报告 Self-test report", tuple(lines),
                       f"KIOSK-SELFTEST {self.terminal_id} {int(self.at)}",
                       f"{verdict}: {sum(i.ok for i in self.items)}/{len(self.items)}")


@dataclass
class SelfTestParts:
    """What the self-test looks at: the terminal's own parts (a running one's, or ones
    opened for the test)."""
    profile: Profile
    devices: DeviceSet
    data_dir: Path
    outbox: Outbox | None
    backoffice: BackOfficeClient | None
    call_timeout_s: float = 10.0


Confirm = Callable[[str], bool]


class SelfTest:
    def __init__(self, parts: SelfTestParts, *, confirm: Confirm = lambda _q: False,
                 test_door: int | None = None, clock: Callable[[], float] = time.time,
                 versions: dict[str, str] | None = None) -> None:
        """`confirm(question)`: the technician's yes (a door opens only after one);
        `test_door`: the compartment to open and close (none: the doors are only read)."""
        self._parts = parts
        self._confirm = confirm
        self._test_door = test_door
        self._clock = clock
        self._versions = versions or {}

    def plan(self) -> list[str]:
        """The items in the order they run (for a progress bar)."""
        return [w.name for w in self._parts.devices] + [
            "disk", "backoffice", "credential", "clock", "outbox", "enrolment"]

    def run(self, on_item: Callable[[Item], None] | None = None,
            on_start: Callable[[str], None] | None = None) -> Report:
        items = []
        for name, test in self._tests():
            if on_start is not None:
                on_start(name)
            started = time.monotonic()
            try:
                item = test()
            except Exception as e:  # a test that breaks is a failed item, not a crash
                item = Item(name, False, f"the test itself failed: {type(e).__name__}: {e}",
                            "run it again; if it fails the same way, report it with the log")
            item = Item(item.name, item.ok, item.detail, item.do,
                        round(time.monotonic() - started, 2))
            items.append(item)
            if on_item is not None:
                on_item(item)
        return Report(self._parts.profile.terminal.id, self._clock(), tuple(items),
                      self._versions)

    def print_summary(self, report: Report) -> Item | None:
        """The report on the receipt printer; what became of it (None: no printer)."""
        printer = self._parts.devices.printer
        if printer is None:
            return None
        done = printer.call(lambda p: p.print_receipt(report.receipt()), None,
                            timeout_s=self._parts.call_timeout_s * 2, what="selftest summary")
        result = done.value
        if result is None or not result.ok:
            why = getattr(result, "failure", None) or done.problem or "no answer"
            return Item("summary receipt", False, f"not printed: {why}",
                        f"the report is in {self._parts.data_dir / REPORT_FILE}")
        return Item("summary receipt", True, "printed")

    def _tests(self) -> Iterator[tuple[str, Callable[[], Item]]]:
        for worker in self._parts.devices:
            yield worker.name, lambda w=worker: self._device(w)  # type: ignore[misc]
        checkin: list[Any] = []

        def check_in() -> Any:
            if not checkin and self._parts.backoffice is not None:
                checkin.append((time.time(), self._parts.backoffice.check_in(), time.time()))
            return checkin[0] if checkin else None

        yield "disk", self._disk
        yield "backoffice", lambda: self._reachable(check_in())
        yield "credential", lambda: self._credential(check_in())
        yield "clock", lambda: self._clock_skew(check_in())
        yield "outbox", self._outbox
        yield "enrolment", self._enrolment

    def _device(self, worker: DeviceWorker[Any]) -> Item:
        timeout = self._parts.call_timeout_s
        offline = DeviceStatus(DeviceState.OFFLINE, "no_answer", "did not answer in time")
        status = worker.call(lambda d: d.self_test(), offline, timeout_s=timeout,
                             what="self-test").value
        if not status.usable:
            return Item(worker.name, False, f"{status.state.value}: {status.reason} "
                        f"{status.message}".strip(), advice(worker.kind, status))
        ok, detail, do = exercise(worker, self._parts.profile, confirm=self._confirm,
                                  test_door=self._test_door, timeout_s=timeout)
        state = "" if status.state is DeviceState.READY else f" ({status.state.value}: " \
            f"{status.reason})"
        return Item(worker.name, ok, detail + state, do)

    def _disk(self) -> Item:
        try:
            free = os.statvfs(self._parts.data_dir)
        except OSError as e:
            return Item("disk", False, f"cannot read free space: {e.strerror}",
                        f"check that {self._parts.data_dir} exists and is mounted")
        left = free.f_bavail * free.f_frsize
        text = f"{left / 1024**3:.1f} GB free in {self._parts.data_dir}"
        if left < DISK_MIN_BYTES:
            return Item("disk", False, text, "free space (old logs, images) or fit a larger "
                        f"disk: at least {DISK_MIN_BYTES // 1024**3} GB")
        return Item("disk", True, text)

    def _reachable(self, seen: Any) -> Item:
        url = self._parts.profile.backoffice.url or "(none)"
        if seen is None:
            return Item("backoffice", False, "no back office is configured",
                        "set backoffice.url in the profile (kiosk provision configure)")
        _, answer, _ = seen
        if not answer.reachable:
            return Item("backoffice", False, f"{url} cannot be reached ({answer.detail})",
                        "check the network cable, DNS, the proxy and the firewall to the "
                        "back office; the terminal queues offline meanwhile")
        return Item("backoffice", True, f"{url} answered in {answer.round_trip_s:.2f} s")

    def _credential(self, seen: Any) -> Item:
        if seen is None or not seen[1].reachable:
            return Item("credential", False, "not checked: the back office cannot be reached",
                        "fix the back office's reachability first")
        answer = seen[1]
        if answer.status == 200:
            who = answer.terminal_id or "the fleet token"
            own = self._parts.profile.terminal.id
            if answer.terminal_id not in (None, own):
                return Item("credential", False, f"the credential is {who}'s, not {own}'s",
                            "enrol this terminal: kiosk provision enroll")
            return Item("credential", True, f"accepted ({who})")
        return Item("credential", False, f"refused (HTTP {answer.status}) {answer.detail}",
                    "enrol again with a new enrolment token: kiosk provision enroll")

    def _clock_skew(self, seen: Any) -> Item:
        if seen is None or seen[1].server_time is None:
            return Item("clock", False, "not checked: the back office did not give its time",
                        "fix the back office's reachability first")
        before, answer, after = seen
        skew = answer.server_time - (before + after) / 2
        text = f"{abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} the back office"
        if abs(skew) > MAX_CLOCK_SKEW_S:
            return Item("clock", False, text, "set the clock: enable NTP (timedatectl "
                        "set-ntp true) and check the time zone")
        return Item("clock", True, text)

    def _outbox(self) -> Item:
        outbox = self._parts.outbox
        if outbox is None:
            return Item("outbox", False, "not open", "see the log for why it cannot be opened")
        problem = outbox.integrity_problem()
        if problem is not None:
            return Item("outbox", False, f"the database is damaged: {problem}",
                        "stop the kiosk, keep a copy of outbox.db, and call support")
        stats = outbox.stats()
        text = f"{stats.pending + stats.in_flight} pending, {stats.parked} parked"
        if stats.oldest_pending_age_s is not None:
            text += f", oldest {stats.oldest_pending_age_s / 60:.0f} min"
        if stats.parked:
            return Item("outbox", False, text, "staff console: look at the parked envelopes "
                        "and retry them (kiosk queue list --status parked)")
        if (stats.oldest_pending_age_s or 0) > OUTBOX_OLDEST_S:
            return Item("outbox", False, text, "envelopes are not being delivered: check "
                        "the back office's reachability and the credential")
        return Item("outbox", True, text)

    def _enrolment(self) -> Item:
        files = EnrolmentFiles.of(self._parts.profile, self._parts.data_dir)
        record = files.read_record()
        if record is None:
            return Item("enrolment", False, "this terminal is not enrolled",
                        "kiosk provision enroll --backoffice URL --token T")
        loose = [str(p) for p in files.secrets()
                 if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077]
        if loose:
            return Item("enrolment", False, f"readable by others: {', '.join(loose)}",
                        "chmod 600 those files (or enrol again)")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.get("enrolled_at", 0)))
        return Item("enrolment", True, f"enrolled as {record.get('terminal_id')} on {when}")


def advice(kind: str, status: DeviceStatus) -> str:
    """What a technician does about a device that is not usable."""
    reason = status.reason
    if status.state is DeviceState.OFFLINE or reason in ("not_connected", "no_answer",
                                                         "timeout", "silent"):
        return registry.kind(kind).unreachable
    return {"paper_out": "load paper", "paper_low": "load paper soon",
            "cover_open": "close the printer's cover", "jammed": "clear the jam",
            "cutter_error": "clear the cutter, then switch the printer off and on",
            }.get(reason, f"see the device's manual for '{reason}', then run the test again")
