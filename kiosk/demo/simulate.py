"""Headless end-to-end citizen sessions: the real session machine, outbox, sync worker and a
back office, with simulated devices acting instantly, and the real camera adapter looking at
the demo citizen's face (verified by the back office against the photo on file). Used by
`kiosk simulate` and the bench.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.config.catalogue import Intent, Service
from kiosk.config.profile import Profile, with_simulated_devices, without_maintenance
from kiosk.config.settings import Timings
from kiosk.demo.enrolment import backoffice_at
from kiosk.demo.faces import CameraView, put_photos_on_file, with_camera_view
from kiosk.records.dir_lock import DataDirLock
from kiosk.session import State
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions

MAX_TICKS = 50  # per step; instant simulators answer in one or two


@dataclass
class SimulationReport:
    sessions_requested: int
    sessions_completed: int
    envelopes_enqueued: int
    delivered: int
    failed: int
    pending: int
    drained: bool
    seconds: float
    sessions_per_s: float
    backoffice_url: str
    backoffice_applications: int | None
    data_dir: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _tick_until(terminal: Terminal, states: set[State]) -> bool:
    for _ in range(MAX_TICKS):
        if terminal.session.state in states:
            return True
        if terminal.session.state is State.CONSENT:  # the citizen agrees to the face check
            terminal.session.consent_face(True)
        terminal.session.tick()
    return terminal.session.state in states


def run_one_session(terminal: Terminal, service: Service, n: int) -> str | None:
    """One citizen applying for `service`; the tracking number they left with, if any."""
    s = terminal.session
    if not _tick_until(terminal, {State.ATTRACT}):
        return None
    s.touch()
    s.choose_intent(Intent.APPLY)
    if service.group:
        s.choose(service.group)
    s.choose(service.id)
    if not _tick_until(terminal, {State.FILL, State.CONFIRM}):
        s.back()
        return None
    if s.state is State.FILL:
        for f in service.fields:
            s.set_field(f.name, f.choices[0].value if f.choices else f"模拟 {f.name} {n}")
        s.submit_form()
    s.confirm()
    view = s.view()
    done = view.state is State.DONE and view.outcome is not None
    tracking_no = view.outcome.tracking_no if done and view.outcome else None
    if tracking_no:
        s.finish()
        s.rate(5 - n % 5)  # 好差评: every level in turn
        if s.state is State.RATE:  # a bad one asks why: sent without reasons
            s.send_rating()
    else:  # e.g. it could not be kept (a full disk): the citizen leaves, nothing is kept
        s.go_home()
        s.back()
    return tracking_no or None


def simulated_profile(profile: Profile, data_dir: Path) -> Profile:
    """Every device simulated and instant, except the camera: the real OpenCV adapter, looking
    at a demo citizen who is always in front of it."""
    view = CameraView(data_dir / "camera-view.png")
    view.show_face()
    simulated = with_simulated_devices(without_maintenance(profile), instant=True)
    return with_camera_view(simulated, view)


def run_simulation(
    profile: Profile,
    sessions: int,
    data_dir: Path,
    backoffice_url: str | None = None,
    time_limit_s: float = 120.0,
    *,
    token_file: Path | None = None,
    citizen_key_file: Path | None = None,
) -> SimulationReport:
    """`token_file` and `citizen_key_file`: what the given back office issued to terminals
    (the embedded one's are used without a URL)."""
    started = time.monotonic()
    profile = simulated_profile(profile, data_dir)
    # Held before enrolling: another simulation's secrets are never overwritten.
    with DataDirLock(data_dir / "kiosk"), \
            backoffice_at(backoffice_url, data_dir, token_file=token_file,
                          citizen_key_file=citizen_key_file) as access:
        url = access.url
        put_photos_on_file(access, (c.id_number for c in DEMO_CITIZENS))
        token, key = access.enrol(data_dir / "kiosk")
        terminal = Terminal(profile, TerminalOptions(
            data_dir=data_dir / "kiosk", backoffice_url=url, timings=Timings.instant(),
            steps=InlineSteps(),  # each session step done before the next tick: no timing luck
            token_file=token, citizen_key_file=key,
        ))
        try:
            before = terminal.outbox.stats()
            terminal.start()
            # Applications, through the outbox; a certificate issued on the spot never is.
            apply_services = [s for s in terminal.services
                              if s.intent is Intent.APPLY and s.issues is None]
            if not apply_services:
                raise ValueError(f"profile {profile.profile} offers no service to apply for")
            completed = 0
            for n in range(sessions):
                if time.monotonic() - started > time_limit_s:
                    break
                service = apply_services[n % len(apply_services)]
                completed += run_one_session(terminal, service, n) is not None
            remaining = max(0.0, time_limit_s - (time.monotonic() - started))
            drained = terminal.sync.wait_until_drained(remaining)
            elapsed = time.monotonic() - started
            after = terminal.outbox.stats()
            bo_stats = terminal.backoffice.stats()
        finally:
            terminal.stop()
    enqueued = sum((after.pending, after.in_flight, after.delivered, after.parked)) - sum(
        (before.pending, before.in_flight, before.delivered, before.parked))
    return SimulationReport(
        sessions_requested=sessions,
        sessions_completed=completed,
        envelopes_enqueued=enqueued,
        delivered=after.delivered - before.delivered,
        failed=after.parked - before.parked,
        pending=after.pending + after.in_flight,
        drained=drained,
        seconds=round(elapsed, 3),
        sessions_per_s=round(completed / elapsed, 1) if elapsed > 0 else 0.0,
        backoffice_url=url,
        backoffice_applications=(bo_stats or {}).get("applications"),
        data_dir=str(data_dir),
    )
