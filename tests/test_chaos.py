"""The outbox's reliability evidence, in the suite (bench/chaos.py runs the long ones): a
terminal's `kiosk simulate` killed with -9 at 50 random moments on one data directory, then
`kiosk queue drain`; and `kiosk simulate` delivering through a proxy that faults 30 % of its
requests (503 before the back office sees them, the connection dropped after it committed,
garbage after it committed, slow answers). Every envelope the outbox ever held is at the
back office exactly once, and both databases pass integrity_check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import kill_trials, proxy_run

pytestmark = [pytest.mark.realstack, pytest.mark.slow]


def test_fifty_kill_9_of_a_running_simulate_then_drain_lose_and_repeat_nothing(
        tmp_path: Path) -> None:
    report = kill_trials(tmp_path, trials=50, seed=90210, alive_s=(1.2, 3.2))
    assert report.ok, report.as_dict()
    assert report.application_envelopes >= 30


def test_a_fault_injecting_proxy_at_30_percent_loses_and_repeats_nothing(
        tmp_path: Path) -> None:
    report = proxy_run(tmp_path, sessions=40, seed=4242)
    assert report.ok, report.as_dict()
    assert report.visit_envelopes == 80  # each visit: its application and its rating
    assert report.envelopes > 80  # and the audit log's signed checkpoints, all delivered too
    faulted = {k: v for k, v in report.faults.items() if k != "passed"}
    assert all(n > 0 for n in faulted.values()), report.faults  # every fault was met
