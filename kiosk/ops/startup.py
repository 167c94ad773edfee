"""The start of a terminal with remote configuration: which profile to run (a trial of a
version the back office offered, the applied one, or the local file), a trial that cannot
even be started rolled back at once, and a trial start watched until it is healthy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile
from kiosk.ops.remote_config import ConfigKeeper, Decision, TrialWatch

log = logging.getLogger(__name__)


class Restartable(Protocol):
    def health_problem(self) -> str | None: ...

    def request_restart(self, *, when_idle: bool = False) -> None: ...


T = TypeVar("T", bound=Restartable)


def start_with_remote_config(keeper: ConfigKeeper, local: Profile,
                             make: Callable[[Profile, int | None], T], *, within_s: float,
                             every_s: float = 2.0) -> tuple[T, Decision, TrialWatch | None]:
    """The terminal `make(profile, version)` builds for this start, the decision, and the
    watch over a trial (started; stop it with the terminal). A local profile that cannot be
    started raises its ConfigError as it always did."""
    decision = keeper.decide(local)
    if decision.note:
        log.warning("%s", decision.note)
    try:
        terminal = make(decision.profile, decision.version)
    except ConfigError as e:
        if not decision.trial:
            raise
        decision = keeper.failed_to_start(local, str(e))
        log.warning("%s", decision.note)
        terminal = make(decision.profile, decision.version)
    watch = None
    if decision.trial:
        assert decision.version is not None
        # Rolled back at once (a crash from then on starts the old version), but restarted
        # onto it only when nobody is at the screen: a citizen on a trial is not cut off.
        watch = TrialWatch(keeper, local, decision.version, terminal.health_problem, within_s,
                           lambda _d: terminal.request_restart(when_idle=True), every_s=every_s)
        watch.start()
    return terminal, decision, watch
