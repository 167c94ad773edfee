"""`kiosk provision configure` against the real wire peers: bindings tested through the
workers the terminal would build, a profile written only when every binding answered and the
file validates with load_profile, nothing written otherwise; the wizard driven with typed
answers; the TOML writer read back by tomllib."""

from __future__ import annotations

import json
import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from devices.id_reader.sam.peer import SamReaderPeer
from devices.locker.rs485.peer import LockerBoardPeer
from devices.printer.escpos.peer import EscposPeer
from kiosk.config.profile import PROFILES_DIR, load_profile
from provisioning import profile_toml, serial_scan
from provisioning.cli import provision_app

pytestmark = [pytest.mark.realstack, pytest.mark.usefixtures("no_pcscd")]


@pytest.fixture
def sam() -> Iterator[SamReaderPeer]:
    peer = SamReaderPeer()
    yield peer
    peer.close()


@pytest.fixture(params=["8a80", "kerong"])
def boards(request: pytest.FixtureRequest) -> Iterator[LockerBoardPeer]:
    peer = LockerBoardPeer(request.param)
    yield peer
    peer.stop()






def configure(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(provision_app, ["configure", *args], input=input)
    return result.exit_code, result.output


def scripted(out: Path, *args: str) -> tuple[int, str]:
    return configure("--yes", "--from", "gov-hall", "--out", str(out), *args)


def adapter(boards: LockerBoardPeer) -> str:
    return f"rs485_{boards.protocol}"


def stopped_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nothing_written(directory: Path, out: Path) -> None:
    assert not out.exists()
    assert not list(directory.glob(".*"))  # no temporary file left behind


def test_flags_bind_each_peer_and_the_profile_loads(
        tmp_path: Path, sam: SamReaderPeer, boards: LockerBoardPeer,
        printer: EscposPeer) -> None:
    out = tmp_path / "etc" / "terminal.toml"
    code, said = scripted(
        out, "--terminal-id", "SH-PD-0042", "--backoffice-url", "https://bo.example.cn/k",
        "--bind", f"id_reader=sam_serial:port={sam.port}",
        "--bind", "id_reader=pcsc:documents=passport+bank_card",
        "--bind", f"printer=escpos_network:host=127.0.0.1,tcp_port={printer.port}",
        "--bind", f"locker={adapter(boards)}:port={boards.port},doors=12",
        "--bind", "camera=none", "--drop-untested")
    assert code == 1, said  # the PC/SC reader: pcscd is not running
    assert "pcsc" in said and "refused" in said
    nothing_written(out.parent, out)
    code, said = scripted(
        out, "--terminal-id", "SH-PD-0042", "--backoffice-url", "https://bo.example.cn/k",
        "--bind", f"id_reader=sam_serial:port={sam.port}",
        "--bind", f"printer=escpos_network:host=127.0.0.1,tcp_port={printer.port}",
        "--bind", f"locker={adapter(boards)}:port={boards.port},doors=12",
        "--bind", "camera=none", "--drop-untested")
    assert code == 0, said
    profile = load_profile(out)
    assert profile.terminal.id == "SH-PD-0042"
    assert profile.backoffice.url == "https://bo.example.cn/k"
    devices = {k: [{"adapter": c.adapter, **c.model_dump(exclude_defaults=True)} for c in configs]
               for k, configs in profile.devices.fitted()}
    assert devices == {
        "id_reader": [{"adapter": "sam_serial", "port": sam.port}],
        "printer": [{"adapter": "escpos_network", "host": "127.0.0.1",
                     "tcp_port": printer.port}],
        "locker": [{"adapter": adapter(boards), "port": boards.port, "doors": 12}],
    }
    text = out.read_text(encoding="utf-8")
    assert text.count("tested") >= 3 and "ready" in text
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert not boards.unlocks and not any(boards.is_open(n) for n in range(1, 13))


@pytest.mark.slow  # discovery first: every port asked in every protocol
def test_bind_discovered_takes_what_discover_found(
        tmp_path: Path, sam: SamReaderPeer, boards: LockerBoardPeer,
        printer: EscposPeer) -> None:
    found = CliRunner().invoke(provision_app, [
        "discover", "--json", "--ports-only", "--timeout", "0.5", "--ports", sam.port,
        "--ports", boards.port,
        "--hosts", f"127.0.0.1:{printer.port}"])
    assert found.exit_code == 0, found.output
    (tmp_path / "found.json").write_text(found.output, encoding="utf-8")
    out = tmp_path / "terminal.toml"
    code, said = scripted(out, "--bind-discovered", str(tmp_path / "found.json"),
                          "--bind", "certificate_printer=none")
    assert code == 0, said
    profile = load_profile(out)
    (reader,) = profile.devices.configs("id_reader")  # found: gov-hall's readers replaced
    assert (reader.adapter, reader.port) == ("sam_serial", sam.port)
    (locker,) = profile.devices.configs("locker")
    # Found on its port, and gov-hall's other settings of the same adapter kept (doors).
    assert (locker.adapter, locker.port) == (adapter(boards), boards.port)
    assert profile.devices.printer.tcp_port == printer.port
    assert profile.devices.certificate_printer is None
    assert profile.devices.camera is not None  # not found, kept from gov-hall untested ...
    assert "Kept from gov-hall without a test" in out.read_text(encoding="utf-8")
    assert "camera opencv: from gov-hall, not tested" in said  # ... and said so


def test_a_binding_to_a_stopped_peer_is_refused_and_nothing_is_written(
        tmp_path: Path, printer: EscposPeer) -> None:
    port = printer.port
    printer.close()
    out = tmp_path / "terminal.toml"
    code, said = scripted(out, "--bind", f"printer=escpos_network:host=127.0.0.1,tcp_port={port}")
    assert code == 1
    assert "refused, offline (not_connected)" in said and "nothing written" in said
    nothing_written(tmp_path, out)


def test_a_binding_to_the_wrong_port_is_refused_with_the_reason(
        tmp_path: Path, sam: SamReaderPeer, boards: LockerBoardPeer) -> None:
    out = tmp_path / "terminal.toml"
    out.write_text("# the profile before\n", encoding="utf-8")
    code, said = scripted(out, "--bind", f"id_reader=sam_serial:port={boards.port}")
    assert code == 1 and "refused, offline (not_answering)" in said
    code, said = scripted(out, "--bind", f"locker={adapter(boards)}:port={sam.port}")
    assert code == 1 and "refused, offline (not_answering)" in said and "no answer" in said
    assert out.read_text(encoding="utf-8") == "# the profile before\n"  # left as it was
    assert not boards.unlocks


def test_of_two_printers_found_the_first_that_answers_is_bound(
        tmp_path: Path, printer: EscposPeer) -> None:
    dead = stopped_port()
    rows = [{"kind": "printer", "adapter": "escpos_network", "where": f"127.0.0.1:{p}",
             "detail": "", "settings": {"adapter": "escpos_network", "host": "127.0.0.1",
                                        "tcp_port": p}} for p in (dead, printer.port)]
    (tmp_path / "found.json").write_text(json.dumps(rows), encoding="utf-8")
    out = tmp_path / "terminal.toml"
    code, said = scripted(out, "--bind-discovered", str(tmp_path / "found.json"), "--json")
    assert code == 0, said
    report = json.loads(said)
    assert [(t["settings"]["tcp_port"], t["accepted"]) for t in report["tested"]] == [
        (dead, False), (printer.port, True)]
    assert load_profile(out).devices.printer.tcp_port == printer.port


def test_a_result_that_is_no_valid_profile_is_never_left_in_place(tmp_path: Path) -> None:
    out = tmp_path / "terminal.toml"
    code, said = scripted(out, "--terminal-id", "not an id", "--bind", "camera=none")
    assert code == 1 and "terminal.id" in said and "not written" in said
    nothing_written(tmp_path, out)


@pytest.mark.parametrize(("bind", "problem"), [
    ("printer", "KIND=ADAPTER"),
    ("scanner=opencv", "unknown device kind"),
    ("printer=escpos_wifi:host=x", "has no adapter 'escpos_wifi'"),
    ("printer=escpos_network:tcp_port=abc,host=x", "tcp_port"),
    ("printer=escpos_network:hostx", "is not key=value"),
])
def test_a_binding_that_is_no_profile_table_is_a_usage_error(
        tmp_path: Path, bind: str, problem: str) -> None:
    out = tmp_path / "terminal.toml"
    code, said = scripted(out, "--bind", bind)
    assert code == 2 and problem in said and len(said.strip().splitlines()) == 1
    nothing_written(tmp_path, out)


def test_yes_needs_from_and_out(tmp_path: Path) -> None:
    code, said = configure("--yes", "--out", str(tmp_path / "t.toml"))
    assert code == 2 and "--from" in said


@pytest.mark.slow  # discovery first: every port asked in every protocol
def test_the_wizard_asks_again_after_a_refusal_and_writes_what_passed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sam: SamReaderPeer,
        boards: LockerBoardPeer, printer: EscposPeer) -> None:
    monkeypatch.setattr(serial_scan, "listed_ports", lambda: [])  # only the peers' ptys
    out = tmp_path / "terminal.toml"
    answers = [
        "bank-branch", str(out), "BK-SH-0200", "", "y",  # profile, file, id, url, discover
        "m", "sam_serial:port=/dev/nonexistent",  # id_reader: typed, refused ...
        "1", "d",  # ... then the one found, and no other
        "1",  # printer: the one found
        "n",  # certificate printer: none
        "1",  # locker: the one found
        "k",  # camera: bank-branch's, untested
        "y",  # write it
    ]
    code, said = configure("--timeout", "0.5", "--ports", sam.port, "--ports", boards.port,
                           "--hosts", f"127.0.0.1:{printer.port}", input="\n".join(answers))
    assert code == 0, said
    assert "refused, offline (not_connected)" in said and "pick another" in said
    profile = load_profile(out)
    assert profile.terminal.id == "BK-SH-0200"
    assert [c.adapter for c in profile.devices.configs("id_reader")] == ["sam_serial"]
    assert profile.devices.locker.port == boards.port
    assert profile.devices.certificate_printer is None
    assert profile.devices.camera is not None
    assert not boards.unlocks


def test_the_wizard_writes_nothing_when_told_no(tmp_path: Path) -> None:
    out = tmp_path / "terminal.toml"
    answers = ["gov-hall", str(out), "SH-PD-0001", "", "n"] + ["k"] * 4 + ["n"]
    code, said = configure("--bind", "printer=none", input="\n".join(answers))
    assert code == 1 and "Nothing written" in said
    nothing_written(tmp_path, out)


# ---------------------------------------------------------------- the TOML writer
@pytest.mark.parametrize("name", ["gov-hall", "bank-branch"])
def test_a_shipped_profile_written_back_reads_the_same(name: str) -> None:
    text = (PROFILES_DIR / f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    written = profile_toml.dumps(data, profile_toml.comments_of(text), ["a header"])
    assert tomllib.loads(written) == data
    assert "# Two identity readers" in written or "# Two identity" not in text


def test_compartments_and_usb_ids_read_back() -> None:
    data: dict[str, Any] = {"devices": {
        "locker": {"adapter": "rs485_8a80", "port": "/dev/ttyUSB0", "compartments": [
            {"number": 1, "board": 2, "lock": 1, "label": "A-01", "column": 1, "row": 1}]},
        "printer": {"adapter": "escpos_usb", "usb_vendor": 0x04B8, "usb_product": 0x0202}}}
    written = profile_toml.dumps(data)
    assert "[[devices.locker.compartments]]" in written and "usb_vendor = 0x04b8" in written
    assert tomllib.loads(written) == data


scalars = st.one_of(st.text(), st.integers(-2**63, 2**63 - 1), st.booleans(),
                    st.floats(allow_nan=False))
keys = st.text(min_size=1, max_size=12)


@given(st.dictionaries(keys, st.one_of(
    scalars, st.lists(scalars, max_size=4),
    st.dictionaries(keys, scalars, max_size=3),
    st.dictionaries(keys, st.dictionaries(keys, scalars, max_size=2), max_size=2),
    st.lists(st.dictionaries(keys, scalars, min_size=1, max_size=2), min_size=1, max_size=2),
), max_size=6))
def test_any_table_of_plain_values_reads_back(data: dict[str, Any]) -> None:
    assert tomllib.loads(profile_toml.dumps(data)) == data
