"""How the terminal is, as a whole: whether anybody is at the screen (configuration waits for
nobody), what the heartbeat reports, whether it is healthy (a configuration on trial is kept
only if it is), and the technician's self-test over its own parts. A mixin of
kiosk.terminal.Terminal, reading its parts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kiosk.session import State
from kiosk.versions import versions

if TYPE_CHECKING:
    from devices.fitted import DeviceSet
    from kiosk.config.profile import Profile
    from kiosk.config.settings import Timings
    from kiosk.health.selftest import Report
    from kiosk.locker.loading import LockerDesk
    from kiosk.ops.backoffice_client import BackOfficeClient
    from kiosk.records.audit import AuditLog
    from kiosk.session import Session
    from kiosk.staff import StaffDesk
    from kiosk.terminal import TerminalOptions
    from offline_queue import Outbox


class TerminalHealth:
    profile: Profile
    options: TerminalOptions
    devices: DeviceSet
    outbox: Outbox
    session: Session
    staff: StaffDesk
    locker_desk: LockerDesk | None
    backoffice: BackOfficeClient
    started_at: float
    timings: Timings
    audit: AuditLog

    def idle(self) -> bool:
        """Nobody at the screen: no citizen's session, no staff signed in, no door job."""
        busy_door = self.locker_desk is not None and self.locker_desk.busy is not None
        return self.session.state in (State.ATTRACT, State.OUT_OF_SERVICE) \
            and self.staff.current() is None and not busy_door

    def heartbeat_body(self) -> dict[str, object]:
        """What the heartbeat tells the back office: no personal data, only the terminal."""
        stats = self.outbox.stats()
        devices = {}
        for worker in self.devices:
            report = worker.report()
            devices[worker.name] = {"kind": worker.kind, "state": report.status.state.value,
                                    "reason": report.status.reason,
                                    "age_s": round(report.age(self.options.clock.now()), 1)}
        return {
            "terminal_id": self.profile.terminal.id, "at": self.options.clock.wall(),
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "versions": versions(), "config_version": self.options.config_version,
            "profile": self.profile.profile, "screen": self.session.state.value,
            "devices": devices,
            "outbox": {"pending": stats.pending + stats.in_flight, "parked": stats.parked,
                       "oldest_age_s": None if stats.oldest_pending_age_s is None
                       else round(stats.oldest_pending_age_s, 1)},
        }

    def health_problem(self) -> str | None:
        """None when the terminal is healthy (every device usable, the back office taking our
        credential); else what is not."""
        statuses = [(w.name, w.report().status) for w in self.devices]
        problems = [f"{name} {status.state.value}" for name, status in statuses
                    if not status.usable]
        answer = self.backoffice.check_in()
        if answer.status != 200:
            problems.append("back office " + (f"refused (HTTP {answer.status})"
                                              if answer.reachable else "unreachable"))
        return "; ".join(problems) or None

    def run_selftest(self) -> Report:
        """The self-test over this running terminal's own parts (the technician's screen;
        `kiosk provision selftest` opens them itself), kept as readiness.json and audited."""
        from kiosk.health.selftest import SelfTest, SelfTestParts  # a technician's, rarely

        parts = SelfTestParts(self.profile, self.devices, self.options.data_dir, self.outbox,
                              self.backoffice, call_timeout_s=self.timings.device_call_timeout_s)
        report = SelfTest(parts, versions=versions()).run()
        report.keep(self.options.data_dir, self.audit)
        return report
