"""What the disk alone cannot show: a log cut off at a record boundary, or rewritten and
chained again without its checkpoints. `kiosk audit verify --against-backoffice` compares it
with the checkpoints the back office holds; and a run of records longer than the terminal ever
leaves unsigned fails on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backoffice import RunningBackOffice
from kiosk.records.audit_chain import GENESIS, record_hash
from tests.test_audit_chain import (
    LOG,
    envelope,
    kinds,
    lines,
    post,
    rewrite,
    verify,
    write_log,
)

TERMINAL = "SH-PD-0042"


def signed_and_held(data: Path, office: RunningBackOffice, records: int) -> None:
    """A log of `records` whose checkpoints the back office holds, and the enrolment record
    that says where that back office is."""
    for checkpoint in write_log(data, records, rotate_bytes=10**9):
        assert post(office, envelope(checkpoint, TERMINAL)) == ["accepted"]
    token = data / "terminal.token"
    token.write_text(office.token + "\n")
    (data / "enrolment.json").write_text(json.dumps({
        "terminal_id": TERMINAL, "backoffice_url": office.url, "token_file": str(token)}))


def rechain(records: list[dict[str, Any]]) -> list[str]:
    """The records numbered and hashed again from the start, as one with the disk (and no
    key) could."""
    prev, out = GENESIS, []
    for seq, record in enumerate(records, start=1):
        record = {**record, "seq": seq, "prev": prev}
        record.pop("hash", None)
        record["hash"] = prev = record_hash(record)
        out.append(json.dumps(record, ensure_ascii=False))
    return out


def test_an_intact_log_matches_what_the_back_office_holds(
        tmp_path: Path, office: RunningBackOffice, capsys: pytest.CaptureFixture[str]) -> None:
    signed_and_held(tmp_path, office, 30)
    code, doc = verify(tmp_path, capsys, "--against-backoffice")
    assert code == 0 and doc["checkpoints"] >= 4, doc


def test_a_log_cut_off_at_a_record_boundary_is_found_only_against_the_back_office(
        tmp_path: Path, office: RunningBackOffice, capsys: pytest.CaptureFixture[str]) -> None:
    signed_and_held(tmp_path, office, 30)
    path = tmp_path / LOG
    rewrite(path, lines(path)[:-12])  # the last records, whole lines and all
    assert verify(tmp_path, capsys)[0] == 0  # the disk alone: an intact chain
    code, doc = verify(tmp_path, capsys, "--against-backoffice")
    assert code == 1 and "cut_off" in kinds(doc), doc


def test_a_log_rewritten_without_its_checkpoints_is_found_against_the_back_office(
        tmp_path: Path, office: RunningBackOffice, capsys: pytest.CaptureFixture[str]) -> None:
    signed_and_held(tmp_path, office, 30)
    path = tmp_path / LOG
    records = [json.loads(line) for line in lines(path)]
    kept = [r for r in records if r["event"] != "audit_checkpoint"]
    kept[3]["service"] = "service-forged"
    rewrite(path, rechain(kept))
    assert verify(tmp_path, capsys)[0] == 0  # re-chained: the disk alone cannot tell
    code, doc = verify(tmp_path, capsys, "--against-backoffice")
    assert code == 1 and "not_as_signed" in kinds(doc), doc


def test_more_records_unsigned_than_the_terminal_ever_leaves_fail_on_their_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path, 1010, rotate_bytes=10**9, checkpoint_every=10)
    path = tmp_path / LOG
    records = [json.loads(line) for line in lines(path)]
    rewrite(path, rechain([r for r in records if r["event"] != "audit_checkpoint"]))
    code, doc = verify(tmp_path, capsys)
    assert code == 1 and kinds(doc) == ["unsigned_run"], doc


def test_without_an_enrolment_there_is_no_back_office_to_compare_with(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path, 5)
    from kiosk.cli.main import run_cli

    assert run_cli(["audit", "verify", "--data-dir", str(tmp_path),
                    "--against-backoffice"]) == 2
    assert "enrol first" in capsys.readouterr().err
