"""Deployment profiles: shipped ones load; broken ones stop start-up with one line naming the
file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config.catalogue import load_catalogue
from kiosk.config.contrast import contrast_ratio
from kiosk.config.errors import ConfigError
from kiosk.config.profile import PROFILES_DIR, load_profile, with_simulated_devices

GOOD = (PROFILES_DIR / "gov-hall.toml").read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in GOOD, old
    p = tmp_path / "broken.toml"
    p.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return p


@pytest.mark.parametrize("name", ["gov-hall", "bank-branch"])
def test_shipped_profiles_load_and_offer_known_services(name: str) -> None:
    profile = load_profile(name)
    assert set(profile.services) <= load_catalogue().ids()
    assert not profile.allow_simulators


def test_bank_branch_has_no_locker_and_no_collection() -> None:
    profile = load_profile("bank-branch")
    assert profile.devices.locker is None
    assert "collect_certificate" not in profile.services


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('adapter = "sam_serial"', 'adapter = "samserial"', "devices.id_reader.0.adapter"),
        ('"household_proof",', '"household_prooof",', "services"),
        ('primary = "#0B5CAD"', 'primary = "blue"', "branding.primary"),
        ('on_primary = "#FFFFFF"', 'on_primary = "#1E6FC0"', "on_primary on primary"),
        ('[hours]', '[hours]\ncolour = "red"', "hours.colour: unknown key"),
        ('id = "SH-PD-0001"', 'id = "sh pd"', "terminal.id"),
        ('port = "/dev/ttyS0"\n', '\n', "devices.id_reader.0.port: required key is missing"),
        ('default = "zh"', 'default = "fr"', "languages.default"),
    ],
)
def test_broken_profile_names_file_key_and_problem(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as e:
        load_profile(path)
    message = str(e.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_profile_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "x.toml"
    p.write_text("profile = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profile(p)


def test_production_profile_naming_a_simulator_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, 'adapter = "escpos_network"\nhost = "receipt-printer"',
                  'adapter = "simulator"')
    with pytest.raises(ConfigError, match=r"devices\.printer names the simulator"):
        load_profile(path)


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="bank-branch, gov-hall"):
        load_profile("airport")


def test_demo_replaces_fitted_devices_with_simulators_only() -> None:
    demo = with_simulated_devices(load_profile("bank-branch"))
    assert demo.allow_simulators and demo.devices.locker is None
    assert demo.devices.printer is not None and demo.devices.printer.adapter == "simulator"


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


def test_catalogue_has_at_least_six_services_in_both_languages() -> None:
    services = load_catalogue().service
    assert len(services) >= 6
    assert all(s.title.zh and s.title.en and s.summary.zh and s.summary.en for s in services)


def write_png(path: Path, width: int = 8, height: int = 8) -> None:
    """A tiny valid RGB PNG, written by hand so the test needs no imaging library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x0b\x5c\xad" * width for _ in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_logo_is_resolved_next_to_the_profile(tmp_path: Path) -> None:
    write_png(tmp_path / "logo.png")
    path = broken(tmp_path, 'text = "#1B2430"', 'text = "#1B2430"\nlogo = "logo.png"')
    profile = load_profile(path)
    assert profile.branding.logo == str((tmp_path / "logo.png").resolve())


def test_missing_logo_names_the_key(tmp_path: Path) -> None:
    path = broken(tmp_path, 'text = "#1B2430"', 'text = "#1B2430"\nlogo = "nope.png"')
    with pytest.raises(ConfigError, match=r"branding\.logo: file nope\.png not found"):
        load_profile(path)


def test_an_adapters_unknown_key_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    path = broken(tmp_path, 'host = "receipt-printer"', 'host = "receipt-printer"\nbaud = 9600')
    with pytest.raises(ConfigError) as e:
        load_profile(path)
    assert str(e.value) == f"{path}: devices.printer.baud: unknown key (check the spelling)"


def test_a_device_kind_that_does_not_exist_is_an_unknown_key(tmp_path: Path) -> None:
    path = broken(tmp_path, "[devices.camera]", '[devices.scanner]\nadapter = "x"\n\n'
                  "[devices.camera]")
    with pytest.raises(ConfigError, match=r"devices\.scanner: unknown key"):
        load_profile(path)


def test_a_hall_fits_several_readers_and_each_is_checked(tmp_path: Path) -> None:
    readers = load_profile("gov-hall").devices.configs("id_reader")
    assert [r.adapter for r in readers] == ["sam_serial", "pcsc"]
    one = broken(tmp_path, '[[devices.id_reader]]\nadapter = "pcsc"\ndocuments = ["passport"]\n',
                 "")
    assert [r.adapter for r in load_profile(one).devices.configs("id_reader")] == ["sam_serial"]
    bad = broken(tmp_path, 'documents = ["passport"]', 'readr = "ACS"')
    with pytest.raises(ConfigError, match=r"devices\.id_reader\.1\.readr: unknown key"):
        load_profile(bad)


def test_adapter_defaults_come_from_the_adapters_own_model() -> None:
    printer, = load_profile("gov-hall").devices.configs("printer")
    assert printer.adapter == "escpos_network" and printer.tcp_port == 9100  # type: ignore[attr-defined]
    locker, = load_profile("gov-hall").devices.configs("locker")
    assert locker.baudrate == 9600 and locker.doors == 24  # type: ignore[attr-defined]


def test_simulated_devices_keep_what_they_share_with_the_real_ones() -> None:
    demo = with_simulated_devices(load_profile("gov-hall"))
    locker, = demo.devices.configs("locker")
    assert locker.adapter == "simulator" and locker.doors == 24  # type: ignore[attr-defined]
    assert [k for k, _ in demo.devices.fitted()] == [
        k for k, _ in load_profile("gov-hall").devices.fitted()]


def test_a_catalogue_need_must_be_a_device_kind_or_the_network() -> None:
    from pydantic import ValidationError

    from kiosk.config.catalogue.model import Service

    with pytest.raises(ValidationError, match="neither a device kind"):
        Service.model_validate({"id": "x", "intent": "apply", "title": {"zh": "x", "en": "x"},
                                "summary": {"zh": "x", "en": "x"}, "needs": ["printr"],
                                "output": "receipt"})
