"""A technician's visit, as the README tells it: the wire peers stand in for the hardware
(`kiosk peers`), then discover, configure, enrol with a token from the operator, self-test;
when the devices go away, the readiness report says so, with what to do."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice.running import RunningBackOffice
from kiosk.cli.main import run_cli
from tests.test_cli import KIOSK, ROOT

pytestmark = pytest.mark.realstack




@pytest.fixture
def peers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    proc = subprocess.Popen([*KIOSK, "peers", "--json", "--printed", str(tmp_path / "printed")],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    where = json.loads(proc.stdout.readline())
    yield proc, where
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def kiosk(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run_cli(list(args))
    return code, capsys.readouterr().out


def test_from_a_fresh_install_to_a_ready_terminal_and_an_honest_report(
        tmp_path: Path, office: RunningBackOffice,
        peers: tuple[subprocess.Popen[str], dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    proc, where = peers
    code, out = kiosk(capsys, "provision", "discover", "--json", "--ports",
                      f"{where['sam_reader']},{where['lock_boards']}", "--hosts", where["printer"])
    assert code == 0
    found = json.loads(out)
    assert {(f["kind"], f["adapter"]) for f in found if f["adapter"]} >= {
        ("id_reader", "sam_serial"), ("printer", "escpos_network"), ("locker", "rs485_8a80")}
    (tmp_path / "found.json").write_text(out)

    profile = tmp_path / "terminal.toml"
    code, _ = kiosk(capsys, "provision", "configure", "--yes", "--from", "gov-hall", "--out",
                    str(profile), "--terminal-id", "SH-PD-0002", "--bind-discovered",
                    str(tmp_path / "found.json"), "--drop-untested", "--backoffice-url",
                    office.url)
    assert code == 0
    # The shipped profile keeps the credential in /etc/kiosk; this test keeps it here.
    profile.write_text(profile.read_text().replace("/etc/kiosk/terminal-token",
                                                   str(tmp_path / "etc" / "terminal-token")))

    r = requests.post(f"{office.url}/v1/enrolment-tokens", json={"terminal_id": "SH-PD-0002"},
                      headers={"Authorization": f"Bearer {office.secrets.operator_token}"},
                      timeout=5)
    data = tmp_path / "kiosk"
    code, _ = kiosk(capsys, "provision", "enroll", "--backoffice", office.url, "--token",
                    r.json()["token"], "--config", str(profile), "--data-dir", str(data))
    assert code == 0

    code, out = kiosk(capsys, "provision", "selftest", "--config", str(profile), "--data-dir",
                      str(data), "--json")
    report = json.loads(out)
    assert code == 0, [i for i in report["items"] if not i["ok"]]
    assert {"id_reader", "printer", "locker"} <= {i["name"] for i in report["items"]}
    assert report["summary_receipt"] == {"ok": True, "detail": "printed"}
    printed = sorted((tmp_path / "printed").glob("*.png"))
    assert len(printed) == 2  # the printer's own test, then the report's summary

    proc.send_signal(signal.SIGTERM)  # the devices go away
    proc.wait(timeout=20)
    code, out = kiosk(capsys, "provision", "selftest", "--config", str(profile), "--data-dir",
                      str(data), "--json", "--no-receipt")
    report = json.loads(out)
    failed = {i["name"]: i for i in report["items"] if not i["ok"]}
    assert code == 1 and set(failed) == {"id_reader", "printer", "locker"}
    assert all(item["do"] for item in failed.values())
    assert json.loads((data / "readiness.json").read_text())["ok"] is False
