"""Configuration from the back office: pulled, validated, applied at a safe moment, and rolled
back when the terminal does not come up healthy with it.

The life of a version, kept in `<data_dir>/remote-config/state.json` (written whole or not at
all, so a power cut leaves the old state or the new one):

1. **offered**: the heartbeat's answer names a version newer than any seen. It is fetched and
   validated as every profile is (and, for a production start, by the production rules); it
   must be this terminal's (same terminal id). Invalid: reported `rejected` with the reason,
   never tried again.
2. **staged**: valid, kept as `v<N>.json`; waiting for a moment with no citizen and no staff
   at the screen. Then the terminal restarts itself (systemd or `kiosk supervise` starts it
   again) to run it: a trial.
3. **trial**: the start picks the trial version. If the terminal is healthy (every device
   usable, the back office answering with our credential) within `config_healthy_within_s`,
   the version is **applied** and reported so. If not, or if the trial start itself fails
   (a profile the terminal cannot be built from, a crash before it was healthy: a second
   start finds the trial still open), it is **rolled back** to the version before, reported
   with the reason, and the terminal restarts on the old one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk.config.errors import describe_validation_error
from kiosk.config.profile import Profile
from kiosk.ops.backoffice_client import BackOfficeClient

log = logging.getLogger(__name__)
STATE_DIR = "remote-config"
TRIAL_STARTS = 1  # a second start with the trial still open: it crashed before it was healthy


@dataclass
class Decision:
    """What to start with: a profile, which remote version it is (None: the local file's),
    and what happened on the way (a rollback, said in the log and to the back office)."""
    profile: Profile
    version: int | None
    trial: bool
    note: str = ""


class ConfigKeeper:
    def __init__(self, data_dir: Path, client: BackOfficeClient, terminal_id: str, *,
                 check: Callable[[Profile], list[str]] = lambda _p: [],
                 clock: Callable[[], float] = time.time) -> None:
        """`check`: further rules a profile must pass (the production ones for `kiosk run`)."""
        self._dir = data_dir / STATE_DIR
        self._client = client
        self._terminal_id = terminal_id
        self._check = check
        self._clock = clock
        self._lock = threading.Lock()
        self._dir.mkdir(parents=True, exist_ok=True)

    # -- state -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        try:
            doc = json.loads((self._dir / "state.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            doc = {}
        except (OSError, ValueError):
            log.error("remote configuration state unreadable: starting from the local profile")
            doc = {}
        base: dict[str, Any] = {"active": None, "staged": None, "trial": None, "seen": 0,
                                "history": []}
        return {**base, **doc} if isinstance(doc, dict) else base

    def _save(self, state: dict[str, Any]) -> None:
        path = self._dir / "state.json"
        tmp = path.with_name(f".state.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        tmp.replace(path)

    def _note(self, state: dict[str, Any], version: int, status: str, detail: str) -> None:
        state["history"] = [*state["history"][-49:], {
            "version": version, "status": status, "detail": detail, "at": self._clock()}]
        self._save(state)
        log.warning("remote configuration v%d %s%s", version, status,
                    f": {detail}" if detail else "")
        if not self._client.config_status(self._terminal_id, version, status, detail or None):
            log.info("back office not told of v%d %s yet (it is in the history)", version,
                     status)

    @property
    def active_version(self) -> int | None:
        active = self.state()["active"]
        return active if isinstance(active, int) else None

    # -- 1, 2: offered, validated, staged ----------------------------------------------------

    def offered(self, version: int | None) -> str:
        """A heartbeat named `version`: fetch, validate and stage it when it is new. What
        became of it: "none", "seen", "rejected", "staged"."""
        with self._lock:
            state = self.state()
            if version is None or version <= state["seen"]:
                return "none" if version is None else "seen"
            got = self._client.offered_config(self._terminal_id)
            if got is None or int(str(got["version"])) != version:
                return "none"  # asked again at the next heartbeat
            state["seen"] = version
            problems = self.validate(got["profile"])  # type: ignore[arg-type]
            if problems:
                self._note(state, version, "rejected", "; ".join(problems)[:2000])
                return "rejected"
            (self._dir / f"v{version}.json").write_text(
                json.dumps(got["profile"], ensure_ascii=False), encoding="utf-8")
            state["staged"] = version
            self._save(state)
            log.info("remote configuration v%d staged: applied when nobody is at the screen",
                     version)
            return "staged"

    def validate(self, doc: dict[str, Any]) -> list[str]:
        try:
            profile = Profile.model_validate(doc)
        except ValidationError as e:
            return [describe_validation_error(Path("remote configuration"), e)]
        problems = []
        if profile.terminal.id != self._terminal_id:
            problems.append(f"terminal.id {profile.terminal.id} is not this terminal "
                            f"({self._terminal_id})")
        return problems + self._check(profile)

    def take_staged(self) -> int | None:
        """At a safe moment: the staged version becomes the trial; the caller restarts the
        terminal to run it. None when nothing is staged."""
        with self._lock:
            state = self.state()
            version = state["staged"]
            if version is None or state["trial"] is not None:
                return None  # one trial at a time: a newer version waits for this one's end
            state["staged"] = None
            state["trial"] = {"version": version, "previous": state["active"], "starts": 0,
                              "since": self._clock()}
            self._save(state)
            return int(version)

    # -- 3: the start, health, applied or rolled back ----------------------------------------

    def decide(self, local: Profile) -> Decision:
        """What this start runs: a trial version (once), the active one, or the local file."""
        with self._lock:
            state = self.state()
            trial = state["trial"]
            if trial is not None:
                trial["starts"] += 1
                if trial["starts"] > TRIAL_STARTS:
                    return self._rolled_back(state, local, "the terminal stopped before it "
                                             "came up healthy with it")
                self._save(state)
                loaded = self._load(trial["version"])
                if loaded is None:
                    return self._rolled_back(state, local, "its file is missing or invalid")
                return Decision(loaded, trial["version"], trial=True)
            return self._current(state, local)

    def failed_to_start(self, local: Profile, why: str) -> Decision:
        """The trial profile could not be started: back to the one before."""
        with self._lock:
            state = self.state()
            if state["trial"] is None:
                raise RuntimeError("no trial to roll back")
            return self._rolled_back(state, local, f"the terminal cannot start with it: {why}")

    def healthy(self, version: int) -> None:
        """The trial of `version` came up healthy: it is applied (nothing, if the trial open
        now is not that one's)."""
        with self._lock:
            state = self.state()
            trial = state["trial"]
            if trial is None or trial["version"] != version:
                return
            state["active"], state["trial"] = trial["version"], None
            self._note(state, trial["version"], "applied", "")

    def unhealthy(self, local: Profile, why: str, version: int) -> Decision | None:
        """The trial of `version` did not come up healthy in time: rolled back (restart to
        run the one before); None if the trial open now is not that one's."""
        with self._lock:
            state = self.state()
            if state["trial"] is None or state["trial"]["version"] != version:
                return None
            return self._rolled_back(state, local, f"not healthy within the limit: {why}")

    def stopped_cleanly(self) -> None:
        """The terminal was stopped on purpose (systemctl stop or restart, a reboot) during a
        trial: that start does not count against the version."""
        with self._lock:
            state = self.state()
            if state["trial"] is not None and state["trial"]["starts"] > 0:
                state["trial"]["starts"] -= 1
                self._save(state)

    def _rolled_back(self, state: dict[str, Any], local: Profile, why: str) -> Decision:
        trial = state["trial"]
        state["trial"], state["active"] = None, trial["previous"]
        self._note(state, trial["version"], "rolled_back", why)
        decision = self._current(state, local)
        decision.note = f"configuration v{trial['version']} rolled back: {why}"
        return decision

    def _current(self, state: dict[str, Any], local: Profile) -> Decision:
        version = state["active"]
        if version is not None:
            loaded = self._load(version)
            if loaded is not None:
                return Decision(loaded, version, trial=False)
            log.error("remote configuration v%s cannot be read: the local profile runs",
                      version)
        return Decision(local, None, trial=False)

    def running_profile(self, local: Profile) -> tuple[Profile, int | None]:
        """What `kiosk run` runs now (the trial's, the applied version's, or the local file),
        without counting a start: for the self-test, which must test that one."""
        with self._lock:
            state = self.state()
            version = (state["trial"] or {}).get("version") or state["active"]
            loaded = self._load(version) if version is not None else None
            return (loaded, version) if loaded is not None else (local, None)

    def _load(self, version: int) -> Profile | None:
        try:
            doc = json.loads((self._dir / f"v{version}.json").read_text(encoding="utf-8"))
            return Profile.model_validate(doc)
        except (OSError, ValueError, ValidationError):
            return None


class TrialWatch:
    """Watches a trial start: `healthy()` true within `within_s` applies the version; else
    `on_rollback` is called (the terminal restarts on the old version)."""

    def __init__(self, keeper: ConfigKeeper, local: Profile, version: int,
                 healthy: Callable[[], str | None], within_s: float,
                 on_rollback: Callable[[Decision], None], *, every_s: float = 2.0) -> None:
        """`healthy()`: None when healthy, else what is not."""
        self._keeper, self._local, self._healthy = keeper, local, healthy
        self._version = version
        self._within_s, self._every_s, self._on_rollback = within_s, every_s, on_rollback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="config-trial", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + self._within_s
        why = "not checked yet"
        while not self._stop.is_set():
            try:
                problem = self._healthy()
            except Exception as e:  # a broken check is not healthy
                problem = f"health check failed: {e}"
            if problem is None:
                self._keeper.healthy(self._version)
                return
            why = problem
            if time.monotonic() >= deadline:
                break
            self._stop.wait(self._every_s)
        if not self._stop.is_set():
            decision = self._keeper.unhealthy(self._local, why, self._version)
            if decision is not None:
                self._on_rollback(decision)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
