"""The production start (`kiosk run`): what a production profile must not have, and the
start with remote configuration: which profile to run (a trial of a version the back office
offered, the applied one, or the local file), a trial that cannot even be started rolled
back at once, and a trial start watched until it is healthy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from kiosk.config.errors import ConfigError
from kiosk.config.production import pcsc_readers, production_problems
from kiosk.config.profile import Profile
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.ops.remote_config import ConfigKeeper, Decision, TrialWatch
from kiosk.records.dir_lock import DataDirLock
from kiosk.records.enrolment import EnrolmentFiles
from kiosk.terminal import Terminal, TerminalOptions, read_token

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


def production_secrets(profile: Profile, data_dir: Path) -> list[Path]:
    """The files of a production terminal that nobody but it may read."""
    files = EnrolmentFiles.of(profile, data_dir)
    return [*files.secrets(), data_dir / "outbox.key", data_dir / "audit-signing.key"]


def production_check(profile: Profile, data_dir: Path) -> list[str]:
    """What keeps `profile` from running this terminal in production ([] when nothing)."""
    return production_problems(profile, production_secrets(profile, data_dir), pcsc_readers())


@dataclass
class ProductionStart:
    terminal: Terminal
    keeper: ConfigKeeper
    watch: TrialWatch | None
    held: DataDirLock  # held for the terminal's life, from before the configuration is chosen

    def release(self) -> None:
        """After the UI, however it ended: the trial's watch and the directory let go."""
        if self.watch is not None:
            self.watch.stop()
        self.held.release()

    def ended_cleanly(self) -> None:
        """The UI stopped without an error: a stop nobody asked a restart for (systemctl
        stop, a reboot) does not count against a trial."""
        if not self.terminal.restart_requested:
            self.keeper.stopped_cleanly()


def start_production(profile: Profile, data_dir: Path) -> ProductionStart:
    """`kiosk run`'s terminal: the local profile, or the back office's configuration applied
    or on trial. ConfigError (or OSError) when it cannot be started."""
    assert profile.backoffice.url is not None
    url = profile.backoffice.url
    files = EnrolmentFiles.of(profile, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    # Held before the configuration is chosen: a second kiosk run on this directory must
    # not count as a start of a configuration on trial (it would roll it back).
    held = DataDirLock(data_dir)
    try:
        client = BackOfficeClient(url, token=read_token(files.existing_token()),
                                  timeout_s=profile.timings.backoffice_timeout_s,
                                  verify=profile.backoffice.tls_verify)
        keeper = ConfigKeeper(data_dir, client, profile.terminal.id,
                              check=lambda p: production_check(p, data_dir))

        def make(chosen: Profile, version: int | None) -> Terminal:
            return Terminal(chosen, TerminalOptions(
                data_dir=data_dir, backoffice_url=url, token_file=str(files.token),
                keeper=keeper, config_version=version))  # the key: the profile's or data dir's

        terminal, _, watch = start_with_remote_config(
            keeper, profile, make, within_s=profile.timings.config_healthy_within_s)
    except BaseException:
        held.release()
        raise
    return ProductionStart(terminal, keeper, watch, held)
