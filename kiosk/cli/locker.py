"""`kiosk locker list|load|retrieve`: staff's work on the certificate locker from the
terminal's console. `list` reads the records only; `load` and `retrieve` open the locker (and
nothing else), journal the door, and settle by what the door and item sensors say. Run them
while the kiosk app is stopped: one process drives the locker's serial line at a time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from kiosk.cli.device import ConfigOpt, JsonOpt, _fail, _load
from kiosk.cli.staff import PinStdin, kiosk_dir
from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile
from kiosk.config.settings import SystemClock
from kiosk.locker.layout import profile_layout
from kiosk.locker.loading import DoorJob, LockerDesk
from kiosk.records.audit import AuditLog
from kiosk.records.locker_store import LockerInventory

locker_app = typer.Typer(help="Staff: what is in the certificate locker; load and retrieve.",
                         no_args_is_help=True)
DataDir = Annotated[Path, typer.Option("--data-dir", help="The kiosk's data directory.")]
DEFAULT_DIR = Path("/var/lib/kiosk")


def _data(data_dir: Path) -> Path:
    found = kiosk_dir(data_dir)
    if not (found / "locker.db").is_file():
        _fail(f"{data_dir}: no locker records here (looked for locker.db and "
              "kiosk/locker.db)")
    return found


@locker_app.command("list")
def list_(config: ConfigOpt = None, data_dir: DataDir = DEFAULT_DIR,
          json_out: JsonOpt = False) -> None:
    """Every item recorded inside, with its compartment's label, whether its pickup code has
    come, and whether it is overdue or waiting for staff. Opens no device."""
    labels = {c.number: c.label for c in profile_layout(_load(config, False))} if config \
        else {}
    store = LockerInventory(_data(data_dir) / "locker.db")
    try:
        items, now = store.items(), time.time()
        overdue = {i.door for i in store.overdue(now)}
    finally:
        store.close()
    rows = [{"compartment": i.door, "label": labels.get(i.door, f"{i.door:02d}"),
             "application_no": i.application_no, "title": i.title_zh, "state": i.state,
             "loaded_at": i.loaded_at, "due_at": i.due_at, "overdue": i.door in overdue,
             "pickup_code": i.has_code} for i in items]
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        due = time.strftime("%Y-%m-%d", time.localtime(float(str(r["due_at"]))))
        flag = " OVERDUE" if r["overdue"] else ""
        typer.echo(f"{r['label']:<6} {r['application_no']:<28} {r['state']:<12} due {due}"
                   f"{flag}")
    if not rows:
        typer.echo("the locker is empty")


StaffOpt = Annotated[str, typer.Option("--staff", help="Your staff number (your PIN is "
                                      "asked; your role must be allowed to load lockers).")]


def _signed_in(profile: Profile, data: Path, staff_id: str, pin_stdin: bool,
               audit: AuditLog) -> None:
    from kiosk.cli.staff import read_pin, sign_in

    signed = sign_in(data, profile, staff_id, read_pin(pin_stdin), "load_locker", audit)
    if signed.ok:
        return
    why = {"unknown_staff": "no such staff, or a wrong PIN",
           "wrong_pin": f"wrong PIN ({signed.tries_left} tries before a pause)",
           "locked": "too many wrong PINs: try again after "
                     + time.strftime("%H:%M:%S", time.localtime(signed.locked_until or 0)),
           "not_allowed": "your role may not load or retrieve locker items",
           "wrong_way": "your role signs in with a badge or the bank's sign-on, not a PIN",
           "no_pins": "no staff PINs are set here (kiosk staff set-pin)"}
    typer.echo(f"kiosk: sign-in refused: {why.get(signed.reason, signed.reason)}", err=True)
    raise typer.Exit(1)


@contextmanager
def _desk(config: str | None, data_dir: Path, close_wait_s: float, staff_id: str,
          pin_stdin: bool) -> Iterator[LockerDesk]:
    from kiosk.records.citizen_key import CitizenKey
    from kiosk.records.dir_lock import DataDirLock
    from kiosk.terminal import build_devices, citizen_key_path, open_inventory, open_outbox

    if config is None:
        _fail("--config is required (a profile name or file)")
    assert config is not None
    profile = _load(config, simulated=False)
    data = _data(data_dir)
    clock = SystemClock()
    staff_audit = AuditLog(data / "audit.jsonl", clock)
    try:
        _signed_in(profile, data, staff_id, pin_stdin, staff_audit)
    finally:
        staff_audit.close()
    try:
        devices = build_devices(profile, data, profile.timings, clock, kinds=("locker",))
    except ConfigError as e:
        _fail(str(e))
        raise AssertionError from e  # unreachable
    if devices.locker is None:
        devices.stop()
        _fail(f"{config}: no locker is fitted")
    assert devices.locker is not None
    with ExitStack() as opened:
        opened.callback(devices.stop)
        try:
            # No kiosk drives these doors meanwhile (and none starts while staff load).
            opened.enter_context(DataDirLock(data))
            store = open_inventory(data / "locker.db",
                                   CitizenKey.from_file(citizen_key_path(profile, data)))
            opened.callback(store.close)
            outbox = open_outbox(data, recover_leases=False)
            opened.callback(outbox.close)
        except ConfigError as e:
            _fail(str(e))
        audit = AuditLog(data / "audit.jsonl", clock)
        opened.callback(audit.close)
        yield LockerDesk(devices.locker, store, outbox, audit, clock, profile.terminal.id,
                         profile_layout(profile), call_timeout_s=
                         profile.timings.device_call_timeout_s * 2, close_wait_s=close_wait_s)


def _assignee(config: str | None, application_no: str) -> str:
    """Whose the application is, from the profile's back office."""
    from kiosk.ops.backoffice_client import BackOfficeClient
    from kiosk.terminal import read_token

    assert config is not None
    profile = _load(config, simulated=False)
    if not profile.backoffice.url:
        _fail("the profile names no back office to ask whose it is: give --id-number")
    assert profile.backoffice.url is not None
    try:
        token = read_token(profile.backoffice.token_file)
    except ConfigError as e:
        _fail(str(e))
        raise AssertionError from e  # unreachable
    number = BackOfficeClient(profile.backoffice.url, token=token).assignee_of(application_no)
    if number is None:
        _fail(f"the back office does not say whose {application_no} is (unknown, or not "
              "reachable): give --id-number")
    assert number is not None
    return number


def _said(job: DoorJob, json_out: bool, done: str) -> None:
    if json_out:
        typer.echo(json.dumps({"ok": job.ok, "compartment": job.door, "label": job.label,
                               "outcome": job.outcome}, ensure_ascii=False))
    elif job.ok:
        typer.echo(f"{done}: compartment {job.label}")
    else:
        where = f"compartment {job.label}: " if job.door is not None else ""
        typer.echo(f"kiosk: {where}{job.outcome.replace('_', ' ')}", err=True)
    if not job.ok:
        raise typer.Exit(1)


CloseWait = Annotated[float, typer.Option(help="How long staff have to shut the door.")]


@locker_app.command()
def load(
    application_no: Annotated[str, typer.Argument(help="The application number scanned.")],
    staff: StaffOpt,
    id_number: Annotated[str | None, typer.Option(
        help="The ID number of the citizen it is for (kept only as a salted hash); without "
        "it, the back office is asked whose the application is.")] = None,
    title_zh: Annotated[str, typer.Option(help="What it is, in Chinese.")] = "证照",
    title_en: Annotated[str, typer.Option(help="What it is, in English.")] = "Certificate",
    size: Annotated[Literal["small", "medium", "large"], typer.Option()] = "medium",
    keep_days: Annotated[float, typer.Option(help="Overdue after this many days.")] = 30,
    config: ConfigOpt = None, data_dir: DataDir = DEFAULT_DIR,
    close_wait_s: CloseWait = 120.0, json_out: JsonOpt = False, pin_stdin: PinStdin = False,
) -> None:
    """Open a free compartment of the size for the item, wait for the door to be shut on it,
    and record it for the citizen (the back office then sends them a pickup code). Exit 1
    with the reason when no compartment is free, the door does not open, or it was shut on
    an empty compartment."""
    with _desk(config, data_dir, close_wait_s, staff, pin_stdin) as desk:
        whose = id_number or _assignee(config, application_no)
        typer.echo("put the item in, then shut the door", err=True)
        job = desk.load(application_no, title_zh, title_en, whose, size=size,
                        keep_s=keep_days * 86400)
    _said(job, json_out, "loaded")


@locker_app.command()
def retrieve(
    compartment: Annotated[int, typer.Argument(help="The compartment's number.")],
    staff: StaffOpt,
    config: ConfigOpt = None, data_dir: DataDir = DEFAULT_DIR,
    close_wait_s: CloseWait = 120.0, json_out: JsonOpt = False, pin_stdin: PinStdin = False,
) -> None:
    """Open a compartment to take its item out (overdue, or waiting for staff); the item is
    recorded as retrieved once the door is shut on an empty compartment."""
    with _desk(config, data_dir, close_wait_s, staff, pin_stdin) as desk:
        job = desk.retrieve(compartment)
    _said(job, json_out, "retrieved")
