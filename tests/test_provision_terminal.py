"""A technician's visit, against the reference back office on loopback and the ESC/POS
printer's wire peer: enrol with a one-time token, self-test, and a readiness report that
tells the truth when the printer goes away."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import requests

from backoffice.running import RunningBackOffice
from devices.printer.escpos.peer import EscposPeer
from kiosk.cli.main import run_cli


def operator(office: RunningBackOffice) -> dict[str, str]:
    return {"Authorization": f"Bearer {office.secrets.operator_token}"}


def enrolment_token(office: RunningBackOffice, terminal_id: str = "SH-PD-0042") -> str:
    r = requests.post(f"{office.url}/v1/enrolment-tokens", json={"terminal_id": terminal_id},
                      headers=operator(office), timeout=5)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def write_profile(path: Path, office_url: str, printer: EscposPeer) -> Path:
    path.write_text(f"""
profile = "test-hall"
allow_simulators = true
services = ["household_proof", "check_applications"]

[terminal]
id = "SH-PD-0042"
name = {{ zh = "测试大厅", en = "Test hall" }}

[branding]
primary = "#0B5CAD"
on_primary = "#FFFFFF"
background = "#F2F6FB"
surface = "#FFFFFF"
text = "#1B2430"

[[devices.id_reader]]
adapter = "simulator"

[devices.printer]
adapter = "escpos_network"
host = "{printer.host}"
tcp_port = {printer.port}

[backoffice]
url = "{office_url}"
""", encoding="utf-8")
    return path


def kiosk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_cli(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_enrol_then_selftest_then_a_stopped_printer_fails_the_report(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer,
        capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path / "terminal.toml", office.url, printer)
    data = tmp_path / "kiosk"
    token = enrolment_token(office)
    code, out, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url,
                           "--token", token, "--config", str(profile), "--data-dir", str(data),
                           "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["terminal_id"] == "SH-PD-0042" and done["rotated"] is False
    credential = (data / "terminal.token").read_text().strip()
    for name in ("terminal.token", "citizen-hash.key", "audit-signing.key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    assert credential not in out + err and token not in out + err  # never printed
    assert (data / "citizen-hash.key").read_text().strip() == office.secrets.citizen_key_hex
    assert credential not in (data / "audit.jsonl").read_text()
    # The audit-signing key's public half is the back office's to check checkpoints with.
    from backoffice.audit_checkpoints import fingerprint_of
    from kiosk.records.audit_keys import load_or_create_signing_key

    signing = load_or_create_signing_key(data).public_key()
    assert office.store.audit_checkpoints.key_of("SH-PD-0042") == fingerprint_of(signing)
    # The credential is this terminal's, and the token is spent.
    who = requests.get(f"{office.url}/v1/whoami", timeout=5,
                       headers={"Authorization": f"Bearer {credential}"})
    assert who.status_code == 200 and who.json()["terminal_id"] == "SH-PD-0042"
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url,
                         "--token", token, "--config", str(profile), "--data-dir", str(data))
    assert code == 1 and "used already" in err

    code, out, err = kiosk(capsys, "provision", "selftest", "--config", str(profile),
                           "--data-dir", str(data), "--json")
    report = json.loads(out)
    assert code == 0, [i for i in report["items"] if not i["ok"]]
    names = {i["name"] for i in report["items"]}
    assert {"printer", "disk", "backoffice", "credential", "clock", "outbox",
            "enrolment"} <= names and report["ok"]
    assert json.loads((data / "readiness.json").read_text())["ok"] is True
    printed = [" ".join(r.text) for r in printer.receipts]
    assert any("Print test" in p for p in printed)  # the device's own test
    assert any("Self-test report" in p and "READY" in p for p in printed)  # the summary

    printer.close()  # the printer goes away
    code, out, _ = kiosk(capsys, "provision", "selftest", "--config", str(profile),
                         "--data-dir", str(data), "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    (failed,) = [i for i in report["items"] if not i["ok"]]
    assert failed["name"] == "printer" and failed["do"]
    assert report["summary_receipt"]["ok"] is False
    assert json.loads((data / "readiness.json").read_text())["ok"] is False
    runs = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    assert [(e["ok"], e["failed"]) for e in runs if e["event"] == "selftest_run"] == [
        (True, None), (False, "printer")]


def test_enrolling_again_rotates_the_credential_and_revoking_fails_the_selftest(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer,
        capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path / "terminal.toml", office.url, printer)
    data = tmp_path / "kiosk"
    credentials = []
    for _ in range(2):
        code, _out, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url,
                                "--token", enrolment_token(office), "--config", str(profile),
                                "--data-dir", str(data))
        assert code == 0, err
        credentials.append((data / "terminal.token").read_text().strip())
    first, second = credentials
    assert first != second
    old = requests.get(f"{office.url}/v1/whoami", timeout=5,
                       headers={"Authorization": f"Bearer {first}"})
    assert old.status_code == 401  # rotated: the old one is dead
    audit = [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]
    assert [e["rotated"] for e in audit if e["event"] == "terminal_enrolled"] == [False, True]

    r = requests.post(f"{office.url}/v1/terminals/SH-PD-0042/revoke", headers=operator(office),
                      timeout=5)
    assert r.status_code == 200
    code, out, _ = kiosk(capsys, "provision", "selftest", "--config", str(profile),
                         "--data-dir", str(data), "--json", "--no-receipt")
    report = json.loads(out)
    credential = next(i for i in report["items"] if i["name"] == "credential")
    assert code == 1 and not credential["ok"] and "enroll" in credential["do"]


def test_enrolment_tokens_are_the_operators_and_bound_to_one_terminal(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer,
        capsys: pytest.CaptureFixture[str]) -> None:
    # A terminal's token cannot issue enrolment tokens.
    r = requests.post(f"{office.url}/v1/enrolment-tokens", json={"terminal_id": "SH-PD-0042"},
                      headers=office.headers, timeout=5)
    assert r.status_code == 401
    profile = write_profile(tmp_path / "terminal.toml", office.url, printer)
    other = enrolment_token(office, "SH-PD-0099")
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url,
                         "--token", other, "--config", str(profile), "--data-dir",
                         str(tmp_path / "k"))
    assert code == 1 and "SH-PD-0099" in err
    assert not (tmp_path / "k" / "terminal.token").exists()
    revoked = enrolment_token(office)
    r = requests.post(f"{office.url}/v1/enrolment-tokens/revoke", json={"token": revoked},
                      headers=operator(office), timeout=5)
    assert r.json() == {"revoked": True}
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url,
                         "--token", revoked, "--config", str(profile), "--data-dir",
                         str(tmp_path / "k"))
    assert code == 1 and "revoked" in err
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", "http://127.0.0.1:9",
                         "--token", revoked, "--config", str(profile), "--data-dir",
                         str(tmp_path / "k"))
    assert code == 1 and "names the back office" in err


def test_files_a_technician_makes_as_root_are_the_kiosk_users(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer,
        capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if os.geteuid() != 0:
        pytest.fail("this test gives files away, which needs root (the CI machine is root)")
    kiosk_user = 65534  # nobody: the data directory is the service user's (StateDirectory)
    data = tmp_path / "kiosk"
    data.mkdir(mode=0o700)
    os.chown(data, kiosk_user, kiosk_user)
    profile = write_profile(tmp_path / "terminal.toml", office.url, printer)
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url,
                         "--token", enrolment_token(office), "--config", str(profile),
                         "--data-dir", str(data))
    assert code == 0, err
    code, _, _ = kiosk(capsys, "provision", "selftest", "--config", str(profile),
                       "--data-dir", str(data), "--json")
    owners = {p.name: p.stat().st_uid for p in data.rglob("*")}
    assert {"terminal.token", "citizen-hash.key", "audit-signing.key", "kiosk.lock",
            "readiness.json", "audit.jsonl", "outbox.db"} <= set(owners)
    assert set(owners.values()) == {kiosk_user}, owners


def test_an_enrolment_that_cannot_keep_its_secrets_does_not_spend_the_token(
        tmp_path: Path, office: RunningBackOffice, printer: EscposPeer,
        capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path / "terminal.toml", office.url, printer)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the token's directory should be")
    profile.write_text(profile.read_text().replace(
        "[backoffice]\n", f'[backoffice]\ntoken_file = "{blocked}/terminal.token"\n'))
    token = enrolment_token(office)
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url, "--token",
                         token, "--config", str(profile), "--data-dir", str(tmp_path / "k"))
    assert code == 1 and "the token is still good" in err
    profile.write_text(profile.read_text().replace(f'token_file = "{blocked}/terminal.token"\n',
                                                   ""))
    code, _, err = kiosk(capsys, "provision", "enroll", "--backoffice", office.url, "--token",
                         token, "--config", str(profile), "--data-dir", str(tmp_path / "k"))
    assert code == 0, err


def test_a_heartbeat_cannot_say_when_the_back_office_received_it(
        office: RunningBackOffice) -> None:
    r = requests.post(f"{office.url}/v1/heartbeats", headers=office.headers, timeout=5,
                      json={"terminal_id": "SH-PD-0042", "received_at": 9e12})
    assert r.status_code == 200
    beats = requests.get(f"{office.url}/v1/terminals/SH-PD-0042/heartbeats", timeout=5,
                         headers=operator(office)).json()["heartbeats"]
    assert beats[0]["received_at"] < 9e12
