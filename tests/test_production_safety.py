"""A production start (`kiosk run`) refuses what would make the terminal untrustworthy: a
simulator, a virtual card reader, TLS off or missing, a secret others can read, lockdown
off. Each is said in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli.main import run_cli
from kiosk.config.production import production_problems
from kiosk.config.profile import PROFILES_DIR, load_profile

SHIPPED = (PROFILES_DIR / "gov-hall.toml").read_text(encoding="utf-8")


def profile_with(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SHIPPED
    path = tmp_path / "terminal.toml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["gov-hall", "bank-branch"])
def test_the_shipped_profiles_are_fit_for_production(name: str) -> None:
    assert production_problems(load_profile(name), ()) == []


@pytest.mark.parametrize(("old", "new", "said"), [
    ('profile = "gov-hall"', 'profile = "gov-hall"\nallow_simulators = true', "allow_simulators"),
    ('documents = ["passport"]', 'documents = ["passport"]\nreader = "Virtual PCD 00 00"',
     "virtual card reader"),
    ("[backoffice]\n", "[backoffice]\nverify_tls = false\n", "backoffice.verify_tls"),
    ('url = "https://backoffice', 'url = "http://backoffice', "is not https://"),
    ("lockdown = true", "lockdown = false", "kiosk.lockdown"),
])
def test_each_unsafe_setting_is_refused(tmp_path: Path, old: str, new: str, said: str) -> None:
    problems = production_problems(load_profile(profile_with(tmp_path, old, new)), ())
    assert len(problems) == 1 and said in problems[0], problems


def test_a_simulated_device_is_refused_even_when_the_profile_allows_simulators(
        tmp_path: Path) -> None:
    path = profile_with(tmp_path, 'adapter = "escpos_network"\nhost = "receipt-printer"',
                        'adapter = "simulator"')
    path.write_text(path.read_text().replace('profile = "gov-hall"',
                                             'profile = "gov-hall"\nallow_simulators = true'))
    problems = production_problems(load_profile(path), ())
    assert [p.split(":")[0] for p in problems] == ["allow_simulators", "devices.printer"]


def test_a_virtual_reader_that_pcscd_lists_is_refused_for_a_reader_left_unnamed() -> None:
    problems = production_problems(load_profile("gov-hall"), (),
                                   readers=["Virtual PCD 00 00", "ACS ACR1252 00 00"])
    assert len(problems) == 1 and "vpcd" in problems[0]
    assert production_problems(load_profile("gov-hall"), (), readers=["ACS ACR1252"]) == []


def test_a_secret_others_can_read_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "terminal.token"
    secret.write_text("x\n")
    secret.chmod(0o644)
    problems = production_problems(load_profile("gov-hall"), [secret, tmp_path / "missing"])
    assert problems == [f"{secret}: mode 0644 lets others read a secret; chmod 600 {secret}"]
    secret.chmod(0o600)
    assert production_problems(load_profile("gov-hall"), [secret]) == []


def test_kiosk_run_says_every_problem_and_starts_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text(SHIPPED.replace("lockdown = true", "lockdown = false").replace(
        "[backoffice]\n", "[backoffice]\nverify_tls = false\n"), encoding="utf-8")
    data = tmp_path / "data"
    code = run_cli(["run", "--config", str(path), "--data-dir", str(data)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 2
    assert "kiosk.lockdown" in err[0] + err[1] and "backoffice.verify_tls" in err[0] + err[1]
    assert not data.exists()  # refused before anything was opened
