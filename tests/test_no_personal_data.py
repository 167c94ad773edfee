"""No personal data where it must not be: a canary citizen (name, ID number, address, and a
phone number they type) goes through whole sessions on a terminal with its simulated devices,
the real camera adapter and a reference back office on loopback: an application with a form,
a certificate printed on the spot, a collection from the locker, a look at their applications,
a call for help and a bad rating. Then every file under the terminal's data directory (every
byte: SQLite databases, their WAL files while the terminal runs, the audit log, the receipts),
and the process log captured at DEBUG (as JSON lines and as plain lines), is searched for each
canary: in UTF-8, UTF-16, GB18030 and as JSON's \\u escapes, and the ID number also as a plain
SHA-256 (identifiers kept on the terminal must be keyed hashes). The outbox holds the
application, encrypted at rest: its plaintext would be found.

The one place left out: the simulated A4 printer's output tray (certificates/), which stands
for the certificate the citizen takes home with their name on it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backoffice import RunningBackOffice, start_in_thread
from devices.fitted import DeviceSet
from devices.id_reader.gb11643 import check_digit
from devices.id_reader.protocol import DocumentKind, Identity
from devices.id_reader.simulator import SimulatedIdReader
from kiosk.config.catalogue import FieldSpec, Intent, LocalizedText, Service, load_catalogue
from kiosk.config.profile import load_profile
from kiosk.config.settings import SystemClock, Timings
from kiosk.demo.faces import put_photos_on_file
from kiosk.demo.seed import register_demo_residents
from kiosk.demo.simulate import simulated_profile
from kiosk.ops.logs import PLAIN_FORMAT, JsonLinesFormatter
from kiosk.session import State
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions, build_devices
from tests.enrol import access, enrol

NUMBER = "51010719660913047" + check_digit("51010719660913047")
CANARY = Identity(DocumentKind.RESIDENT_ID, NUMBER, "甄试金丝雀", "女", "19660913",
                  "四川省成都市金丝雀区哨兵路4417号", "长期", name_latin="ZHENSHI CANARYQUE",
                  ethnic_group="汉", nationality="CHN", issuer="成都市公安局金丝雀分局")
PHONE = "19935827461"
CANARIES = {"name": CANARY.name, "latin name": CANARY.name_latin, "id number": NUMBER,
            "address": CANARY.address, "phone": PHONE}
PAPER_TRAY = "certificates"  # the simulated A4 printer's output: the citizen's certificate


def forms(value: str) -> list[bytes]:
    """The ways a string can sit in a file or a log."""
    found = [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("gb18030"),
             json.dumps(value)[1:-1].encode("ascii")]
    return list(dict.fromkeys(found))


def needles() -> dict[str, list[bytes]]:
    wanted = {what: forms(value) for what, value in CANARIES.items()}
    for variant in {NUMBER, NUMBER.upper(), NUMBER.lower()}:
        digest = hashlib.sha256(variant.encode("utf-8")).hexdigest()
        wanted["id number"] += [digest.encode(), digest.upper().encode()]
    return wanted


def leaks(haystacks: dict[str, bytes]) -> list[str]:
    """Where each canary turns up: "<place>: <what>"."""
    return [f"{place}: {what}" for place, data in sorted(haystacks.items())
            for what, forms_ in needles().items() if any(f in data for f in forms_)]


def files_under(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*"))
            if p.is_file() and p.relative_to(data).parts[0] != PAPER_TRAY}


def test_the_search_finds_a_canary_in_every_form_it_looks_for(tmp_path: Path) -> None:
    # The check can see a leak: in a UTF-16 text, in a row of a SQLite file, as JSON escapes,
    # as a plain hash of the ID number.
    (tmp_path / "a.txt").write_bytes(f"card text {CANARY.address}".encode("utf-16-le"))
    db = sqlite3.connect(tmp_path / "b.db")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (PHONE,))
    db.commit()
    db.close()
    (tmp_path / "c.jsonl").write_text(json.dumps({"n": CANARY.name}))
    (tmp_path / "d.log").write_text(hashlib.sha256(NUMBER.encode()).hexdigest())
    assert leaks(files_under(tmp_path)) == ["a.txt: address", "b.db: phone", "c.jsonl: name",
                                            "d.log: id number"]


def canary_service() -> Service:
    """The catalogue's coffee shop with a phone number to type, as a real form may ask."""
    shop = load_catalogue().get("open_coffee_shop")
    phone = FieldSpec(name="contact_phone", kind="text",
                      label=LocalizedText(zh="联系电话", en="Phone number"))
    return shop.model_copy(update={"id": "canary_coffee_shop", "fields": (*shop.fields, phone),
                                   "title": LocalizedText(zh="开咖啡店(测试)",
                                                          en="Coffee shop (test)")})


@pytest.fixture
def captured_logs(tmp_path: Path) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Everything logged, at DEBUG, as the JSON lines and the plain lines a kiosk writes."""
    streams = {"json log": io.StringIO(), "plain log": io.StringIO()}
    handlers = []
    for name, stream in streams.items():
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonLinesFormatter() if name == "json log"
                             else logging.Formatter(PLAIN_FORMAT))
        handler.setLevel(logging.DEBUG)
        handlers.append(handler)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield lambda: {name: s.getvalue().encode("utf-8") for name, s in streams.items()}
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)


def until(terminal: Terminal, done: Callable[[], bool], limit: int = 200) -> None:
    s = terminal.session
    for _ in range(limit):
        if done():
            return
        if s.state is State.CONSENT:  # the citizen agrees to the face check
            s.consent_face(True)
        s.tick()
    raise AssertionError(f"the session is stuck at {s.state} ({s.notice})")


def back_to_attract(terminal: Terminal) -> None:
    s = terminal.session
    if s.state is State.DONE:
        s.finish()
    if s.state is State.RATE:
        s.rate(2)  # 不满意: it asks why, and goes without reasons
        if s.state is State.RATE:
            s.send_rating()
    until(terminal, lambda: s.state is State.ATTRACT)


def apply_with_form(terminal: Terminal) -> None:
    s = terminal.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("open_shop")
    s.choose("canary_coffee_shop")
    until(terminal, lambda: s.state is State.FILL)
    s.call_staff()  # a call for help on the form: the screen's name goes, nothing of theirs
    s.set_field("shop_name", "金丝雀咖啡")
    s.set_field("shop_address", CANARY.address)
    s.set_field("floor_area", canary_service().fields[2].choices[0].value)
    s.set_field("contact_phone", PHONE)
    s.submit_form()
    until(terminal, lambda: s.state is State.CONFIRM)
    s.confirm()
    until(terminal, lambda: s.state is State.DONE)
    assert s.view().outcome is not None and s.view().outcome.tracking_no
    back_to_attract(terminal)


def apply_for_certificate(terminal: Terminal) -> None:
    s = terminal.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("household_proof")
    until(terminal, lambda: s.state is State.CONFIRM)
    s.confirm()
    until(terminal, lambda: s.state is State.DONE)
    back_to_attract(terminal)


def collect_from_locker(terminal: Terminal) -> None:
    s = terminal.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    until(terminal, lambda: s.state is State.DONE)
    back_to_attract(terminal)


def look_at_applications(terminal: Terminal) -> None:
    s = terminal.session
    s.touch()
    s.choose_intent(Intent.QUERY)
    until(terminal, lambda: s.state is State.DONE)
    back_to_attract(terminal)


@pytest.fixture
def bo(tmp_path: Path) -> Iterator[RunningBackOffice]:
    office = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    assert put_photos_on_file(access(office), [NUMBER]) == 1  # so the face check matches
    assert register_demo_residents(access(office), [NUMBER]) == 1  # a household proof is issued
    yield office
    office.stop()


def test_a_canary_citizen_leaves_no_trace_in_the_terminals_files_or_logs(
        bo: RunningBackOffice, tmp_path: Path,
        captured_logs: Callable[[], dict[str, bytes]]) -> None:
    data = tmp_path / "kiosk"
    profile = simulated_profile(load_profile("gov-hall"), tmp_path / "view")
    options = enrol(data, bo)
    built = build_devices(profile, data, Timings.instant(), SystemClock())
    # The profile's simulated readers, but the card on them is the canary's.
    reader = SimulatedIdReader([CANARY], present_after_s=0, remove_after_s=0)
    devices = DeviceSet([*(w for w in built if w.kind != "id_reader"),
                         *DeviceSet.around({"id_reader": reader})])
    terminal = Terminal(profile, TerminalOptions(
        data_dir=data, backoffice_url=bo.url, timings=Timings.instant(), steps=InlineSteps(),
        devices=devices, **options))
    terminal.session.d.services = [*terminal.services, canary_service()]
    terminal.inventory.load(1, "CANARY-0001", "营业执照", "Business licence", NUMBER,
                            now=1_800_000_000.0, keep_s=30 * 86400)
    terminal.start()
    try:
        until(terminal, lambda: terminal.session.state is State.ATTRACT)
        apply_with_form(terminal)
        apply_for_certificate(terminal)
        collect_from_locker(terminal)
        look_at_applications(terminal)
        assert terminal.sync.wait_until_drained(30)
        assert terminal.outbox.stats().parked == 0
        assert 1 not in terminal.inventory.occupied()  # it was collected
        running = files_under(data)  # with the databases' WAL files
        assert any(name.endswith("-wal") for name in running)
    finally:
        terminal.stop()
    kinds = {json.loads(line)["event"] for line in (data / "audit.jsonl").read_text().splitlines()}
    assert {"application_queued", "certificate_printed", "locker_door_opened",
            "staff_called", "session_ended"} <= kinds  # the sessions did what they say
    assert bo.store.counts()["applications"] == 1  # the form; the certificate was issued
    found = leaks({**{f"{k} (running)": v for k, v in running.items()}, **files_under(data),
                   **captured_logs()})
    assert found == []
