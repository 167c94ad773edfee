"""The tamper-evident audit log: each kind of tampering found by `kiosk audit verify` (exit 1,
naming the file, line and seq), an intact log over several rotations passing (exit 0), the
chain carried on by whoever opens the log next (a restart, a second process, a torn tail), and
the signed checkpoints reaching a reference back office on loopback through a terminal's outbox,
checked there against the key it was given."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backoffice import RunningBackOffice, start_in_thread
from kiosk.cli.main import run_cli
from kiosk.config.profile import load_profile
from kiosk.config.settings import FakeClock, Timings
from kiosk.demo.simulate import simulated_profile
from kiosk.records.audit import CHECKPOINT_KIND, AuditLog, Checkpoint
from kiosk.records.audit_chain import record_hash
from kiosk.records.audit_keys import (
    key_fingerprint,
    load_or_create_signing_key,
    public_key_pem,
    sign_checkpoint,
)
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions
from tests.enrol import enrol

LOG = "audit.jsonl"


def write_log(data: Path, records: int, *, rotate_bytes: int = 1500,
              checkpoint_every: int = 7) -> list[Checkpoint]:
    """`records` events in `data`'s log, rotated every `rotate_bytes`, signed every
    `checkpoint_every` records and at close; the checkpoints handed over."""
    handed: list[Checkpoint] = []
    log = AuditLog(data / LOG, FakeClock(), strict=True, rotate_bytes=rotate_bytes,
                   checkpoint_every=checkpoint_every,
                   signing_key=load_or_create_signing_key(data), on_checkpoint=handed.append)
    for n in range(records):
        log.record("receipt_printed", service=f"service-{n}")
    log.close()
    return handed


def verify(data: Path, capsys: pytest.CaptureFixture[str], *args: str
           ) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run_cli(["audit", "verify", "--data-dir", str(data), "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def kinds(doc: dict[str, Any]) -> list[str]:
    return [p["kind"] for p in doc["problems"]]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def rewrite(path: Path, new: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in new), encoding="utf-8")


def everything(data: Path) -> list[tuple[Path, int, dict[str, Any]]]:
    """(file, line, record) of the whole log, oldest first."""
    rotated = sorted(data.glob(f"{LOG}.*"), key=lambda p: int(p.suffix[1:]))
    return [(path, i, json.loads(text)) for path in [*rotated, data / LOG]
            for i, text in enumerate(lines(path), start=1)]


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    write_log(tmp_path, 60)
    return tmp_path


def test_an_intact_log_over_several_rotations_verifies(logged: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = verify(logged, capsys)
    assert code == 0 and doc["ok"] and doc["problems"] == []
    files = [s["file"] for s in doc["segments"]]
    assert len(files) >= 4 and files[-1] == LOG and files[0] == f"{LOG}.1"
    records = everything(logged)
    assert [r["seq"] for _, _, r in records] == list(range(1, len(records) + 1))
    assert doc["records"] == len(records) and doc["checkpoints"] >= 8
    # Each file's first record chains to the last of the file before it.
    firsts = [i for i, (path, line, _) in enumerate(records) if line == 1 and i > 0]
    assert all(records[i][2]["prev"] == records[i - 1][2]["hash"] for i in firsts)


def test_plain_output_says_intact_and_exits_0(logged: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["audit", "verify", "--data-dir", str(logged)]) == 0
    assert capsys.readouterr().out.strip().endswith("intact")


def test_reopening_the_log_continues_the_chain(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path, 5, rotate_bytes=10**6)
    last = everything(tmp_path)[-1][2]
    again = AuditLog(tmp_path / LOG, FakeClock(), strict=True)
    again.record("session_started")
    again.close()
    new = everything(tmp_path)[-1][2]
    assert (new["seq"], new["prev"]) == (last["seq"] + 1, last["hash"])
    assert verify(tmp_path, capsys)[0] == 0


def test_two_writers_on_one_log_keep_one_chain(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # The kiosk and, say, `kiosk staff set-pin` beside it: each finds what the other wrote.
    kiosk = AuditLog(tmp_path / LOG, FakeClock(), strict=True, rotate_bytes=900)
    staff = AuditLog(tmp_path / LOG, FakeClock(), strict=True, rotate_bytes=900)
    for n in range(20):
        (kiosk if n % 3 else staff).record("receipt_printed", service=f"s{n}")
    kiosk.close()
    staff.close()
    code, doc = verify(tmp_path, capsys)
    assert code == 0, doc["problems"]
    assert doc["records"] == 20 and len(doc["segments"]) > 2


def test_a_changed_field_is_found_where_it_is(logged: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path, line, record = everything(logged)[20]
    text = lines(path)
    record["service"] = "service-forged"
    text[line - 1] = json.dumps(record, ensure_ascii=False)
    rewrite(path, text)
    code, doc = verify(logged, capsys)
    assert code == 1 and not doc["ok"]
    [problem] = doc["problems"]
    assert problem["kind"] == "changed"
    assert (problem["file"], problem["line"], problem["seq"]) == (path.name, line, 21)


def test_a_changed_and_rehashed_record_breaks_the_link_after_it(
        logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line, record = everything(logged)[30]
    text = lines(path)
    record["service"] = "service-forged"
    record["hash"] = record_hash(record)  # a careful forger: its own hash is right
    text[line - 1] = json.dumps(record, ensure_ascii=False)
    rewrite(path, text)
    code, doc = verify(logged, capsys)
    assert code == 1 and "chain_broken" in kinds(doc)
    broken = next(p for p in doc["problems"] if p["kind"] == "chain_broken")
    assert broken["seq"] == 32  # the record after it no longer links to it


def test_a_deleted_record_is_found(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line, record = everything(logged)[-3]
    text = lines(path)
    del text[line - 1]
    rewrite(path, text)
    code, doc = verify(logged, capsys)
    assert code == 1
    [problem] = doc["problems"]
    assert problem["kind"] == "removed" and problem["file"] == path.name
    assert problem["seq"] == record["seq"] + 1 and f"seq {record['seq']}" in problem["detail"]


def test_two_swapped_records_are_found(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = logged / LOG
    text = lines(path)
    assert len(text) >= 3
    text[0], text[1] = text[1], text[0]
    rewrite(path, text)
    code, doc = verify(logged, capsys)
    assert code == 1 and set(kinds(doc)) == {"reordered"}
    assert {(p["file"], p["line"]) for p in doc["problems"]} >= {(LOG, 1), (LOG, 2)}


def test_a_deleted_middle_segment_is_found(logged: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (logged / f"{LOG}.2").unlink()
    code, doc = verify(logged, capsys)
    assert code == 1
    [problem] = doc["problems"]
    assert problem["kind"] == "missing_segment" and problem["file"] == f"{LOG}.2"
    assert problem["seq"] is not None and "seq" in problem["detail"]


def test_a_segment_removed_and_the_rest_renumbered_is_found(
        logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rotated = sorted(logged.glob(f"{LOG}.*"), key=lambda p: int(p.suffix[1:]))
    rotated[1].unlink()
    for n, path in enumerate(rotated[2:], start=2):
        path.rename(logged / f"{LOG}.{n}")
    code, doc = verify(logged, capsys)
    assert code == 1 and kinds(doc) == ["missing_segment"]
    assert doc["problems"][0]["file"] == f"{LOG}.2" and doc["problems"][0]["line"] == 1


def test_a_replaced_segment_is_found(logged: Path, tmp_path_factory: pytest.TempPathFactory,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path_factory.mktemp("other")  # another terminal's log, rotated the same way
    write_log(other, 60)
    (other / f"{LOG}.2").replace(logged / f"{LOG}.2")
    code, doc = verify(logged, capsys)
    assert code == 1
    assert "chain_broken" in kinds(doc) and "unknown_key" in kinds(doc)
    assert all(p["file"] in (f"{LOG}.2", f"{LOG}.3") for p in doc["problems"])


def test_a_truncated_last_line_is_a_torn_tail_until_the_terminal_notes_it(
        logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = logged / LOG
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # the power went mid-write
    code, doc = verify(logged, capsys)
    assert code == 1
    [problem] = doc["problems"]
    assert problem["kind"] == "torn_tail"
    assert (problem["file"], problem["line"]) == (LOG, len(lines(path)))
    # The terminal starts again: the torn line stays as it is, noted, and the chain goes on
    # from the last whole record.
    torn_line = lines(path)[-1]
    last_whole = json.loads(lines(path)[-2])
    again = AuditLog(path, FakeClock(), strict=True)
    again.record("session_started")
    again.close()
    after = lines(path)
    assert torn_line in after  # history is not rewritten
    note = json.loads(after[-2])
    assert note["event"] == "audit_log_torn_tail" and note["lines"] == 1
    assert (note["seq"], note["prev"]) == (last_whole["seq"] + 1, last_whole["hash"])
    code, doc = verify(logged, capsys)
    assert code == 0 and [n["kind"] for n in doc["notes"]] == ["torn_tail_noted"]


def forge(logged: Path, key: Ed25519PrivateKey, *, fingerprint: str) -> tuple[str, int]:
    """Re-sign the log's last checkpoint with `key` and re-chain everything after it, as a
    careful forger would: only the signature can give it away."""
    records = everything(logged)
    at = max(i for i, (_, _, r) in enumerate(records) if r["event"] == "audit_checkpoint")
    path, line, checkpoint = records[at]
    checkpoint["signature"] = sign_checkpoint(key, checkpoint["signed_seq"],
                                              checkpoint["signed_hash"])
    checkpoint["key_fingerprint"] = fingerprint
    prev = records[at - 1][2]["hash"]
    for _, _, r in records[at:]:
        r["prev"] = prev
        r["hash"] = prev = record_hash(r)
    by_file: dict[Path, list[str]] = {}
    for p, _, r in records:
        by_file.setdefault(p, []).append(json.dumps(r, ensure_ascii=False))
    for p, text in by_file.items():
        rewrite(p, text)
    return path.name, line


def test_a_forged_checkpoint_signature_is_found(logged: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    real = key_fingerprint(load_or_create_signing_key(logged))
    where = forge(logged, Ed25519PrivateKey.generate(), fingerprint=real)
    code, doc = verify(logged, capsys)
    assert code == 1
    [problem] = doc["problems"]
    assert problem["kind"] == "bad_signature" and (problem["file"], problem["line"]) == where


def test_a_checkpoint_signed_by_another_key_is_found(logged: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    other = Ed25519PrivateKey.generate()
    forge(logged, other, fingerprint=key_fingerprint(other))
    code, doc = verify(logged, capsys)
    assert code == 1 and kinds(doc) == ["unknown_key"]
    # The forger replaced the key file too: the key the back office was given still knows.
    given = logged / "enrolled.pem"
    given.write_text(public_key_pem(load_or_create_signing_key(logged)))
    (logged / "audit-signing.key").unlink()
    load_or_create_signing_key(logged)  # theirs now
    code, doc = verify(logged, capsys, "--public-key", str(given))
    assert code == 1 and kinds(doc) == ["unknown_key"]


def test_checkpoints_sign_the_record_before_them_and_are_handed_over(tmp_path: Path) -> None:
    handed = write_log(tmp_path, 20, rotate_bytes=10**6, checkpoint_every=7)
    records = {r["seq"]: r for _, _, r in everything(tmp_path)}
    assert len(handed) == 3  # after 7, after 7 more (with the first checkpoint), at close
    for cp in handed:
        assert records[cp.seq]["hash"] == cp.hash
        assert records[cp.seq + 1]["event"] == "audit_checkpoint"
    assert handed[-1].seq == max(records) - 1  # the close signs the very end


def test_a_checkpoint_is_handed_over_off_the_callers_thread(tmp_path: Path) -> None:
    # The caller may be the UI thread under the session's lock: the fsync and the outbox's
    # commit are not theirs to wait for. The last one, at close, is (nothing is left behind).
    threads: list[str] = []
    log = AuditLog(tmp_path / LOG, FakeClock(), strict=True, checkpoint_every=3,
                   signing_key=load_or_create_signing_key(tmp_path),
                   on_checkpoint=lambda cp: threads.append(threading.current_thread().name))
    for _ in range(4):
        log.record("session_started")
    log.close()
    assert threads == ["audit-checkpoint", threading.current_thread().name]


def test_a_full_disk_costs_the_events_not_the_caller(tmp_path: Path) -> None:
    log = AuditLog(Path("/dev/full"), FakeClock(), strict=True)
    log.record("session_started")  # refused by the disk, logged, not raised
    log.close()
    assert [e["event"] for e in log.recent] == ["session_started"]


# -- checkpoints at the back office ----------------------------------------------------------


@pytest.fixture
def bo(tmp_path: Path) -> Any:
    office = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    yield office
    office.stop()


def checkpoints_at(bo: RunningBackOffice, terminal: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{bo.url}/v1/audit-checkpoints", params={"terminal": terminal},
                          headers=bo.headers, timeout=10)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["terminal_id"] == terminal
    found: list[dict[str, Any]] = doc["checkpoints"]
    return found


def terminal_at(data: Path, bo: RunningBackOffice, view: Path) -> Terminal:
    return Terminal(simulated_profile(load_profile("gov-hall"), view),
                    TerminalOptions(data_dir=data, backoffice_url=bo.url,
                                    timings=Timings.instant(), steps=InlineSteps(),
                                    **enrol(data, bo)))


def test_a_terminals_checkpoints_reach_the_back_office_and_are_verified_with_its_key(
        bo: RunningBackOffice, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "kiosk"
    data.mkdir()
    terminal_id = load_profile("gov-hall").terminal.id
    bo.store.audit_checkpoints.register_key(
        terminal_id, public_key_pem(load_or_create_signing_key(data)))  # as enrolment does
    first = terminal_at(data, bo, tmp_path / "view")
    first.start()
    first.session.touch()  # something to audit
    first.stop()  # its last checkpoint waits in the outbox
    again = terminal_at(data, bo, tmp_path / "view")
    again.start()
    try:
        assert again.sync.wait_until_drained(30)
    finally:
        again.stop()
    [kept] = checkpoints_at(bo, terminal_id)
    assert (kept["verified"], kept["verdict"]) == (True, "verified")
    signed = next(r for _, _, r in everything(data) if r["seq"] == kept["seq"])
    assert signed["hash"] == kept["hash"]  # the back office holds the terminal's chain
    assert verify(data, capsys)[0] == 0


def envelope(cp: Checkpoint, terminal: str, key: str | None = None) -> dict[str, Any]:
    body = json.dumps(cp.body(terminal)).encode()
    return {"idempotency_key": key or cp.idempotency_key(terminal), "kind": CHECKPOINT_KIND,
            "payload_b64": base64.b64encode(body).decode()}


def post(bo: RunningBackOffice, *envelopes: dict[str, Any]) -> list[str]:
    answer = requests.post(f"{bo.url}/v1/envelopes", json={"envelopes": list(envelopes)},
                           headers=bo.headers, timeout=10)
    assert answer.status_code == 200
    return [r["status"] for r in answer.json()["results"]]


def test_without_a_key_checkpoints_are_kept_unverified_then_checked_when_it_comes(
        bo: RunningBackOffice, tmp_path: Path) -> None:
    [cp, *_] = write_log(tmp_path, 10, rotate_bytes=10**6, checkpoint_every=5)
    assert post(bo, envelope(cp, "T-0042")) == ["accepted"]
    assert post(bo, envelope(cp, "T-0042")) == ["duplicate"]
    [kept] = checkpoints_at(bo, "T-0042")
    assert (kept["verified"], kept["verdict"], kept["seq"]) == (None, "no_key_registered", cp.seq)
    bo.store.audit_checkpoints.register_key(
        "T-0042", public_key_pem(load_or_create_signing_key(tmp_path)))
    [kept] = checkpoints_at(bo, "T-0042")
    assert (kept["verified"], kept["verdict"]) == (True, "verified")


def test_a_forged_checkpoint_is_kept_as_not_verified(bo: RunningBackOffice,
                                                     tmp_path: Path) -> None:
    key = load_or_create_signing_key(tmp_path)
    bo.store.audit_checkpoints.register_key("T-0042", public_key_pem(key))
    [cp, *_] = write_log(tmp_path, 10, rotate_bytes=10**6, checkpoint_every=5)
    thief = Ed25519PrivateKey.generate()
    forged = Checkpoint(cp.seq + 100, cp.hash, cp.at,
                        sign_checkpoint(thief, cp.seq + 100, cp.hash), cp.key_fingerprint)
    altered = Checkpoint(cp.seq, "0" * 64, cp.at, cp.signature, cp.key_fingerprint)
    theirs = Checkpoint(cp.seq + 200, cp.hash, cp.at,
                        sign_checkpoint(thief, cp.seq + 200, cp.hash), key_fingerprint(thief))
    assert post(bo, envelope(cp, "T-0042"), envelope(forged, "T-0042"),
                envelope(altered, "T-0042", "altered"), envelope(theirs, "T-0042")) == \
        ["accepted"] * 4
    verdicts = [(c["seq"], c["hash"] == cp.hash, c["verified"], c["verdict"])
                for c in checkpoints_at(bo, "T-0042")]
    assert sorted(verdicts) == sorted([
        (cp.seq, True, True, "verified"), (cp.seq, False, False, "bad_signature"),
        (cp.seq + 100, True, False, "bad_signature"), (cp.seq + 200, True, False, "other_key")])


def test_a_checkpoint_off_the_contract_is_rejected_by_name(bo: RunningBackOffice,
                                                          tmp_path: Path) -> None:
    [cp, *_] = write_log(tmp_path, 5, rotate_bytes=10**6, checkpoint_every=5)
    body = {**cp.body("T-0042"), "name": "张三"}  # nothing rides along
    bad = {"idempotency_key": "k-1", "kind": CHECKPOINT_KIND,
           "payload_b64": base64.b64encode(json.dumps(body).encode()).decode()}
    answer = requests.post(f"{bo.url}/v1/envelopes", json={"envelopes": [bad]},
                           headers=bo.headers, timeout=10).json()
    [result] = answer["results"]
    assert result["status"] == "rejected" and "'name'" in result["detail"]
    assert checkpoints_at(bo, "T-0042") == []
    missing = requests.get(f"{bo.url}/v1/audit-checkpoints", headers=bo.headers, timeout=10)
    assert missing.status_code == 400
