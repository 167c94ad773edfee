"""What a stop (a power cut, a kill -9) leaves behind is reconciled at the next start, before
the first screen: envelopes left in flight are pending again, a receipt left printing is
abandoned and staff are told, a door left mid-pickup is settled by its sensors, and the
whole is one audit record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main as cli
from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
from kiosk.config.settings import Timings
from kiosk.records.locker_store import PICKUP
from kiosk.records.print_journal import PrintJournal
from kiosk.session import State
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, open_outbox
from kiosk.terminal import TerminalOptions as Options
from tests.enrol import enrol

OFFLINE = "http://127.0.0.1:9"  # nothing answers: what is pending stays so


def terminal(data: Path) -> Terminal:
    hall = with_simulated_devices(without_maintenance(load_profile("gov-hall")), instant=True)
    return Terminal(hall, Options(data_dir=data, backoffice_url=OFFLINE, steps=InlineSteps(),
                                  timings=Timings.instant(), **enrol(data)))


def test_what_a_stop_left_is_reconciled_before_the_first_screen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "kiosk"
    before = terminal(data)  # the last run: an item in the locker, its door being opened
    before.inventory.load(3, "HP2026000003", "营业执照", "Business licence", "110101199003070012",
                          now=1.0, keep_s=86400)
    intent = before.inventory.intend(3, PICKUP, "HP2026000003", 2.0)
    before.inventory.door_answered(intent, opened=True)
    before.stop()
    outbox = open_outbox(data)  # an envelope on its way when the power went
    outbox.enqueue("staff.alert", b'{"what": "test"}', "k-in-flight")
    assert len(outbox.claim(1, lease_s=3600)) == 1
    outbox.close()
    journal = PrintJournal(data / "print-journal.db")
    journal.begin("SH-PD-0001-20261201-CAFEBABE", 3.0)  # a receipt mid-print
    journal.close()

    seen: dict[str, Any] = {}

    def launch(started: Terminal, **_: object) -> None:  # stands in for the touch UI
        seen["events"] = [e["event"] for e in started.audit.recent]
        seen["state"] = started.session.state
        seen["pending"] = started.outbox.status_of("k-in-flight")
        seen["door"] = [i.id for i in started.inventory.unresolved()]
        seen["delivering"] = started.delivering  # the UI starts deliveries after its frame

    monkeypatch.setattr(cli, "_ui", lambda name: launch)
    after = terminal(data)
    cli._run_ui(after, autoplay=False)  # starts, shows the UI, stops: as kiosk run does

    assert seen["state"] is State.ATTRACT and "startup_reconciled" in seen["events"]
    assert seen["pending"] == "pending" and seen["door"] == [] and not seen["delivering"]
    lines = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    (summary,) = [e for e in lines if e["event"] == "startup_reconciled"]
    assert summary["leases_recovered"] == 1 and summary["prints_abandoned"] == 1
    assert summary["doors_settled"] + summary["doors_to_staff"] == 1
    outbox = open_outbox(data, recover_leases=False)
    try:
        kinds = [e.kind for e in outbox.list()]
        assert "staff.receipt_not_printed" in kinds  # what staff must know of, queued to them
    finally:
        outbox.close()
    (door,) = [e for e in lines if e["event"] == "locker_reconciled"]
    assert door["door"] == 3 and door["purpose"] == PICKUP  # settled by what the sensors say
