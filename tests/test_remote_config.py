"""Heartbeat and configuration from the back office, against the reference back office on
loopback and the ESC/POS printer's wire peer: a good version applied at a moment nobody is at
the screen, an invalid one refused, one the terminal is not healthy with rolled back, one it
cannot even start with rolled back at once; the back office keeps the history."""

from __future__ import annotations

import copy
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from backoffice.running import RunningBackOffice
from devices.printer.escpos.peer import EscposPeer
from kiosk.config.profile import Profile
from kiosk.config.settings import Timings
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.ops.remote_config import ConfigKeeper, TrialWatch
from kiosk.ops.startup import start_with_remote_config
from kiosk.records.citizen_key import CitizenKey
from kiosk.session import State
from kiosk.terminal import Terminal, TerminalOptions

TERMINAL = "SH-PD-0042"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])






def profile_doc(printer_port: int) -> dict[str, Any]:
    return {
        "profile": "test-hall", "allow_simulators": True,
        "services": ["household_proof", "check_applications"],
        "terminal": {"id": TERMINAL, "name": {"zh": "测试大厅", "en": "Test hall"}},
        "branding": {"primary": "#0B5CAD", "on_primary": "#FFFFFF", "background": "#F2F6FB",
                     "surface": "#FFFFFF", "text": "#1B2430"},
        "devices": {"id_reader": [{"adapter": "simulator", "present_after_s": 0.0}],
                    "printer": {"adapter": "escpos_network", "host": "127.0.0.1",
                                "tcp_port": printer_port}},
    }


class Site:
    """One terminal's data directory and how a start of it is made."""

    def __init__(self, tmp_path: Path, office: RunningBackOffice, local: Profile) -> None:
        self.data = tmp_path / "kiosk"
        self.data.mkdir()
        CitizenKey.random().write(self.data / "citizen-hash.key")
        self.token = self.data / "terminal.token"
        self.token.write_text(office.token + "\n")
        self.token.chmod(0o600)
        self.office, self.local = office, local
        self.keeper = ConfigKeeper(self.data, BackOfficeClient(office.url, token=office.token),
                                   TERMINAL)
        self.terminal: Terminal | None = None
        self.watch: TrialWatch | None = None

    def start(self, within_s: float = 5.0) -> Terminal:
        def make(profile: Profile, version: int | None) -> Terminal:
            return Terminal(profile, TerminalOptions(
                data_dir=self.data, backoffice_url=self.office.url, token_file=str(self.token),
                timings=Timings(heartbeat_s=0), keeper=self.keeper, config_version=version))

        self.terminal, _, self.watch = start_with_remote_config(
            self.keeper, self.local, make, within_s=within_s, every_s=0.05)
        self.terminal.start()  # as kiosk run does, before the UI
        return self.terminal

    def stop(self) -> None:
        if self.watch is not None:
            self.watch.stop()
        if self.terminal is not None:
            self.terminal.stop()


def offer(office: RunningBackOffice, doc: dict[str, Any]) -> int:
    r = requests.post(f"{office.url}/v1/terminals/{TERMINAL}/config", json={"profile": doc},
                      headers={"Authorization": f"Bearer {office.secrets.operator_token}"},
                      timeout=5)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def history(office: RunningBackOffice) -> dict[int, tuple[str, str | None]]:
    r = requests.get(f"{office.url}/v1/terminals/{TERMINAL}/config/history", timeout=5,
                     headers={"Authorization": f"Bearer {office.secrets.operator_token}"})
    return {h["version"]: (h["status"], h["detail"]) for h in r.json()["history"]}


def settled(keeper: ConfigKeeper) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while keeper.state()["trial"] is not None:
        assert time.monotonic() < deadline, "the trial never ended"
        time.sleep(0.02)
    return keeper.state()


def eventually(condition: Callable[[], bool], limit_s: float = 10) -> bool:
    """The watch thread's last step (after the state it wrote) done, within the limit."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_good_version_is_applied_and_bad_ones_are_refused_or_rolled_back(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer) -> None:
    local_doc = profile_doc(printer.port)
    site = Site(tmp_path, office, Profile.model_validate(local_doc))
    try:
        first = site.start()
        assert first.profile.services == ("household_proof", "check_applications")

        # v1, fewer services: staged while a citizen is there, applied once nobody is.
        good = copy.deepcopy(local_doc)
        good["services"] = ["household_proof"]
        assert offer(office, good) == 1
        first.session.touch()
        assert first.session.state is not State.ATTRACT
        first.heartbeat.beat()
        assert site.keeper.state()["staged"] == 1 and not first.restart_requested
        first.session.finish()
        first.session.go(State.ATTRACT)
        first.heartbeat.beat()
        assert first.restart_requested  # restarted to run it
        site.stop()

        second = site.start()
        assert second.profile.services == ("household_proof",)
        assert settled(site.keeper)["active"] == 1
        assert history(office)[1] == ("applied", None)

        # The heartbeat told the back office how the terminal is.
        second.heartbeat.beat()
        beats = requests.get(f"{office.url}/v1/terminals/{TERMINAL}/heartbeats", timeout=5,
                             headers={"Authorization":
                                      f"Bearer {office.secrets.operator_token}"}).json()
        latest = beats["heartbeats"][0]
        assert latest["config_version"] == 1 and latest["devices"]["printer"]["state"] == "ready"
        assert {"pending", "parked", "oldest_age_s"} <= set(latest["outbox"])
        assert latest["versions"]["python"] and latest["uptime_s"] >= 0

        # v2, invalid: refused with the reason, never run.
        invalid = copy.deepcopy(good)
        invalid["services"] = ["no_such_service"]
        assert offer(office, invalid) == 2
        second.heartbeat.beat()
        status, detail = history(office)[2]
        assert status == "rejected" and "no_such_service" in str(detail)
        assert not second.restart_requested and site.keeper.state()["staged"] is None

        # v3, valid but its printer is not there: tried, not healthy, rolled back to v1.
        dead = copy.deepcopy(good)
        dead["devices"]["printer"]["tcp_port"] = free_port()
        assert offer(office, dead) == 3
        second.heartbeat.beat()
        assert second.restart_requested
        site.stop()
        third = site.start(within_s=1.0)
        assert third.profile.devices.printer.tcp_port == dead["devices"]["printer"]["tcp_port"]
        assert settled(site.keeper)["active"] == 1
        assert eventually(lambda: third.restart_requested)  # restarted onto v1
        status, detail = history(office)[3]
        assert status == "rolled_back" and "printer" in str(detail)
        site.stop()
        fourth = site.start()
        assert fourth.profile.services == ("household_proof",)
        assert fourth.options.config_version == 1
    finally:
        site.stop()


def test_a_version_the_terminal_cannot_start_with_is_rolled_back_at_once(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer) -> None:
    local_doc = profile_doc(printer.port)
    site = Site(tmp_path, office, Profile.model_validate(local_doc))
    try:
        site.start().heartbeat.beat()
        broken = copy.deepcopy(local_doc)
        broken["backoffice"] = {"citizen_key_file": str(tmp_path / "nowhere.key")}
        offer(office, broken)
        site.terminal.heartbeat.beat()  # type: ignore[union-attr]
        assert site.terminal.restart_requested  # type: ignore[union-attr]
        site.stop()
        again = site.start()
        assert again.options.config_version is None  # the local profile again
        status, detail = history(office)[1]
        assert status == "rolled_back" and "cannot start" in str(detail)
    finally:
        site.stop()


def test_a_trial_that_dies_before_it_is_healthy_is_rolled_back_at_the_next_start(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer) -> None:
    local_doc = profile_doc(printer.port)
    site = Site(tmp_path, office, Profile.model_validate(local_doc))
    changed = copy.deepcopy(local_doc)
    changed["services"] = ["check_applications"]
    offer(office, changed)
    assert site.keeper.offered(1) == "staged"
    assert site.keeper.take_staged() == 1
    assert site.keeper.decide(site.local).trial  # the trial start ... dies (kill -9)
    decision = site.keeper.decide(site.local)  # the next start
    assert not decision.trial and decision.version is None and "rolled back" in decision.note
    assert history(office)[1][0] == "rolled_back"


def test_a_version_offered_during_a_trial_waits_for_that_trial_to_end(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer) -> None:
    local_doc = profile_doc(printer.port)
    site = Site(tmp_path, office, Profile.model_validate(local_doc))
    two, three = copy.deepcopy(local_doc), copy.deepcopy(local_doc)
    two["services"], three["services"] = ["household_proof"], ["check_applications"]
    offer(office, two)
    assert site.keeper.offered(1) == "staged" and site.keeper.take_staged() == 1
    assert site.keeper.decide(site.local).version == 1  # on trial
    offer(office, three)
    assert site.keeper.offered(2) == "staged"
    assert site.keeper.take_staged() is None  # not while v1 is on trial
    site.keeper.healthy(2)  # a watch of another trial: nothing
    assert site.keeper.state()["trial"]["version"] == 1
    site.keeper.healthy(1)
    assert site.keeper.state()["active"] == 1 and history(office)[1][0] == "applied"
    assert site.keeper.take_staged() == 2  # now its turn


def test_a_rollback_waits_for_the_citizen_at_the_screen_and_a_clean_stop_does_not_count(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer) -> None:
    local_doc = profile_doc(printer.port)
    site = Site(tmp_path, office, Profile.model_validate(local_doc))
    dead = copy.deepcopy(local_doc)
    dead["devices"]["printer"]["tcp_port"] = free_port()
    offer(office, dead)
    assert site.keeper.offered(1) == "staged" and site.keeper.take_staged() == 1
    try:
        site.keeper.decide(site.local)
        site.keeper.stopped_cleanly()  # systemctl restart during the trial
        trial = site.start(within_s=0.5)  # the trial goes on: its start counts once
        assert trial.options.config_version == 1
        trial.session.touch()  # a citizen is at the screen when the limit passes
        assert settled(site.keeper)["active"] is None
        assert history(office)[1][0] == "rolled_back"
        assert eventually(lambda: trial.restart_wanted)
        assert not trial.restart_requested  # not cut off
        trial.heartbeat.beat()
        assert not trial.restart_requested  # still there
        trial.session.go(State.ATTRACT)
        trial.heartbeat.beat()
        assert trial.restart_requested  # gone: now
        hooked: list[bool] = []
        trial.set_restart_hook(lambda: hooked.append(True))  # a UI up after the request
        assert hooked == [True]
    finally:
        site.stop()
