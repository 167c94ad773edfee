"""`kiosk device list|status|read-id|scan|print-test|paper-replaced`: what device kinds and
adapters exist, what a profile fits, how each fitted device answers right now (each through
its own DeviceWorker), and the technician's tests of one device."""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from devices import registry
from devices.config import field_docs
from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile, load_profile, with_simulated_devices
from kiosk.config.settings import SystemClock

device_app = typer.Typer(help="Device kinds, adapters and the live status of fitted devices.",
                         no_args_is_help=True)

@device_app.callback()
def _quiet_devices(
    verbose: Annotated[bool, typer.Option("--verbose", help="Also print the device log.")]
    = False,
) -> None:
    """The one-line answer is the output: the device log stays quiet unless asked for."""
    if not verbose:
        logging.getLogger("devices").setLevel(logging.CRITICAL)


ConfigOpt = Annotated[str | None, typer.Option("--config", help="Profile name or TOML file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _fail(message: str) -> None:
    typer.echo(f"kiosk: {message}", err=True)
    raise typer.Exit(2)


def _load(config: str, simulated: bool) -> Profile:
    try:
        profile = load_profile(config)
    except ConfigError as e:
        _fail(str(e))
        raise AssertionError from e  # unreachable
    return with_simulated_devices(profile) if simulated else profile


def _settings(config: Any) -> dict[str, Any]:
    return {k: v for k, v in config.model_dump().items() if k != "adapter"}


@device_app.command("list")
def list_(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """Without --config: every kind and adapter this build knows, with its keys. With it: the
    devices the profile fits."""
    if config is None:
        rows = [{"kind": k.name, "adapter": a.name, "available": a.available,
                 "simulator": a.simulator, "several": k.many,
                 "keys": {n: doc for n, doc in field_docs(a.config).items()
                          if n != "adapter"}}
                for k in registry.KINDS for a in k.adapters]
        if json_out:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        for kind in registry.KINDS:
            typer.echo(f"{kind.name}{' (several)' if kind.many else ''}: {kind.title}")
            for a in kind.adapters:
                keys = ", ".join(n for n in a.config.model_fields if n != "adapter") or "-"
                state = "available" if a.available else "to come"
                typer.echo(f"  {a.name:<16} {state:<10} keys: {keys}")
        return
    profile = _load(config, simulated=False)
    fitted = [(name, c, registry.adapter_of(name, c).available)
              for name, configs in profile.devices.fitted() for c in configs]
    if json_out:
        typer.echo(json.dumps([{"kind": name, "adapter": c.adapter, "available": available,
                                "settings": _settings(c)} for name, c, available in fitted],
                              ensure_ascii=False))
        return
    for name, c, available in fitted:
        settings = " ".join(f"{k}={v}" for k, v in _settings(c).items())
        note = "" if available else "  (not in this build yet)"
        typer.echo(f"{name:<20} {c.adapter:<16} {settings}{note}")


@device_app.command()
def status(
    kind: Annotated[str | None, typer.Argument(help="Only this kind (e.g. printer).")] = None,
    config: ConfigOpt = None,
    simulated: Annotated[bool, typer.Option(help="Ask the simulators standing in for the "
                                            "profile's devices (as kiosk demo does).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Each fitted device's live status; exit 1 when one cannot be used. Only the devices
    asked for are opened."""
    from kiosk.terminal import build_devices

    if config is None:
        _fail("--config is required (a profile name or file)")
    assert config is not None
    if kind is not None and kind not in registry.KIND_NAMES:
        _fail(f"unknown device kind {kind!r} (kinds: {', '.join(registry.KIND_NAMES)})")
    profile = _load(config, simulated)
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="kiosk-device-") as tmp:
        try:
            devices = build_devices(profile, Path(tmp), profile.timings, clock,
                                    kinds=(kind,) if kind else None)
        except ConfigError as e:
            _fail(str(e))
            raise AssertionError from e  # unreachable
        try:
            reports = [(w, w.refresh()) for w in devices]
            doors = _compartments(profile, devices.locker) if devices.locker else None
        finally:
            devices.stop()
    if kind is not None and not reports:
        _fail(f"{config}: no {kind} is fitted")
    mono, wall = clock.now(), time.time()
    rows: list[dict[str, Any]] = [
        {"name": w.name, "kind": w.kind, "state": r.status.state.value,
         "reason": r.status.reason, "message": r.status.message,
         "since": round(wall - (mono - r.since), 3)} for w, r in reports]
    for row in rows:
        if row["kind"] == "locker" and doors is not None:
            row["compartments"] = doors
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            since = time.strftime("%H:%M:%S", time.localtime(float(str(row["since"]))))
            reason = f" ({row['reason']}: {row['message']})" if row["reason"] else ""
            typer.echo(f"{row['name']:<20} {row['state']:<9} since {since}{reason}")
            for door in row.get("compartments") or ():
                typer.echo(f"  {door['label']:<6} door {door['door']:<8} item {door['item']}")
    if not all(r.status.usable for _, r in reports):
        raise typer.Exit(1)


@device_app.command("read-id")
def read_id(
    config: ConfigOpt = None,
    reader: Annotated[str, typer.Option(help="Which reader: sam or pcsc.")] = "sam",
    port: Annotated[str | None, typer.Option(help="Serial port of a SAM reader (instead of "
                                            "the profile's).")] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for a document.")]
    = 20.0,
    json_out: JsonOpt = False,
    show_pii: Annotated[bool, typer.Option("--show-pii", help="Print the full name, number "
                                           "and address (never without this flag).")] = False,
    mrz_key: Annotated[str | None, typer.Option(
        "--mrz-key", help="A passport's DOCNO/BIRTH/EXPIRY (YYMMDD), check digits optional.")]
    = None,
) -> None:
    """Read whatever document is presented and print it, masked unless --show-pii. Exits 1
    with one line when no document comes, the card is pulled, or the reader fails."""
    from kiosk.cli.read_id import run_read_id

    if reader not in ("sam", "pcsc"):
        _fail("--reader must be sam or pcsc")
    if port is None and config is None and reader == "sam":
        _fail("give --port PORT or --config FILE (a profile with an id_reader)")
    profile = _load(config, simulated=False) if config is not None else None
    code, lines = run_read_id(profile, reader=reader, port=port, timeout_s=timeout,
                              as_json=json_out, show_pii=show_pii, mrz_key=mrz_key)
    for line in lines:
        typer.echo(line, err=code != 0)
    if code:
        raise typer.Exit(code)


@device_app.command()
def scan(
    config: ConfigOpt = None,
    from_image: Annotated[Path | None, typer.Option("--from", help="An image holding the QR "
                                                    "code (a photo of the phone's screen).")]
    = None,
    public_key: Annotated[Path | None, typer.Option(help="The back office's QR public key "
                                                    "(PEM); default: the profile's.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Decode an identity QR code and verify its token offline; exit 1 with the reason when it
    is forged, expired, already used or not a token."""
    from kiosk.cli.scan import run_scan

    profile = _load(config, simulated=False) if config is not None else None
    code, lines = run_scan(profile, from_image, public_key, json_out)
    for line in lines:
        typer.echo(line, err=code != 0)
    if code:
        raise typer.Exit(code)


def _compartments(profile: Profile, locker: Any) -> list[dict[str, Any]]:
    """Each compartment's door (open/closed/unknown) and item (present/empty/unknown), from
    one full-bus reading."""
    from kiosk.locker.layout import profile_layout

    states = locker.call(lambda lk: lk.door_states(), {}, what="door states",
                         timeout_s=profile.timings.device_call_timeout_s * 3).value
    rows = []
    for c in profile_layout(profile):
        st = states.get(c.number)
        door = "unknown" if st is None else "open" if st.is_open else "closed"
        item = "unknown" if st is None or not st.item_known else \
            "present" if st.item_present else "empty"
        rows.append({"number": c.number, "label": c.label, "door": door, "item": item})
    return rows


@device_app.command("open-door")
def open_door(
    compartment: Annotated[int, typer.Argument(help="The compartment's number.")],
    config: ConfigOpt = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="The kiosk's data directory: the opening is journaled there "
        "(as a test) before the unlock is sent.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Open one compartment's door and wait for its sensor: exit 0 only when the door is
    seen open; a jammed lock, a silent board or a bad reply exit 1 with one line. Only the
    locker is opened."""
    from devices.locker.protocol import DoorOutcome
    from kiosk.records.locker_store import TEST, LockerInventory
    from kiosk.terminal import build_devices

    if config is None:
        _fail("--config is required (a profile name or file)")
    assert config is not None
    profile = _load(config, simulated=False)
    store = LockerInventory(data_dir / "locker.db") if data_dir is not None else None
    with tempfile.TemporaryDirectory(prefix="kiosk-device-") as tmp:
        try:
            devices = build_devices(profile, Path(tmp), profile.timings, SystemClock(),
                                    kinds=("locker",))
        except ConfigError as e:
            _fail(str(e))
            raise AssertionError from e  # unreachable
        try:
            locker = devices.locker
            if locker is None:
                _fail(f"{config}: no locker is fitted")
            assert locker is not None
            status = locker.refresh().status
            intent = store.intend(compartment, TEST, "", time.time()) if store else None
            outcome = locker.call(lambda lk: lk.open_door(compartment), DoorOutcome.FAULT,
                                  timeout_s=profile.timings.device_call_timeout_s * 2,
                                  what=f"open door {compartment}").value
            if store is not None and intent is not None:
                store.door_answered(intent, outcome is DoorOutcome.OPENED)
                if outcome is not DoorOutcome.OPENED:
                    store.resolve(intent, outcome.value, time.time())
        finally:
            devices.stop()
            if store is not None:
                store.close()
    ok = outcome is DoorOutcome.OPENED
    why = {DoorOutcome.JAMMED: "the lock was driven but the door sensor never showed it open",
           DoorOutcome.NO_SUCH_DOOR: "no such compartment in this profile",
           DoorOutcome.FAULT: f"the board did not answer as it should ({status.message})"}
    if json_out:
        typer.echo(json.dumps({"ok": ok, "compartment": compartment,
                               "outcome": outcome.value}, ensure_ascii=False))
    elif ok:
        typer.echo(f"open door: compartment {compartment} is open")
    else:
        typer.echo(f"open door: compartment {compartment}: {outcome.value}: "
                   f"{why.get(outcome, '')}", err=True)
    if not ok:
        raise typer.Exit(1)


PrinterKind = Annotated[str, typer.Argument(
    help="printer (the receipt printer) or certificate_printer (the A4 one).")]


@contextlib.contextmanager
def _one_printer(config: str | None, kind: str) -> Iterator[tuple[Profile, Any]]:
    """The profile's printer of `kind` behind its worker, and nothing else opened."""
    from kiosk.terminal import build_devices

    if config is None:
        _fail("--config is required (a profile name or file)")
    if kind not in ("printer", "certificate_printer"):
        _fail(f"{kind!r} is not a printer (printer or certificate_printer)")
    assert config is not None
    profile = _load(config, simulated=False)
    with tempfile.TemporaryDirectory(prefix="kiosk-device-") as tmp:
        try:
            devices = build_devices(profile, Path(tmp), profile.timings, SystemClock(),
                                    kinds=(kind,))
        except ConfigError as e:
            _fail(str(e))
            raise AssertionError from e  # unreachable
        try:
            worker = devices.certificate_printer if kind == "certificate_printer" \
                else devices.printer
            if worker is None:
                _fail(f"{config}: no {kind} is fitted")
            yield profile, worker
        finally:
            devices.stop()


@device_app.command("print-test")
def print_test(kind: PrinterKind = "printer", config: ConfigOpt = None,
               json_out: JsonOpt = False) -> None:
    """Print a test receipt (Chinese text and a QR code), or a test A4 certificate, on the
    profile's printer; exit 1 with one line when it cannot print (paper out, cover open, not
    answering). Only that printer is opened."""
    from devices.printer.protocol import PrintFailure, PrintResult

    with _one_printer(config, kind) as (profile, printer):
        from kiosk.health.selftest_devices import test_print_job

        job = test_print_job(profile, kind)
        result = printer.call(job, PrintResult(PrintFailure.OFFLINE,
                                               "the printer did not answer in time"),
                              timeout_s=profile.timings.print_timeout_s, what="print test").value
    ok = result.ok
    reason = "printed" if ok else f"{result.failure}: {result.detail}"
    if json_out:
        typer.echo(json.dumps({"ok": ok, "failure": None if ok else str(result.failure),
                               "detail": result.detail}, ensure_ascii=False))
    else:
        typer.echo(f"print test: {reason}", err=not ok)
    if not ok:
        raise typer.Exit(1)


@device_app.command("paper-replaced")
def paper_replaced(kind: PrinterKind = "printer", config: ConfigOpt = None,
                   json_out: JsonOpt = False) -> None:
    """A technician refilled the paper (or mended the printer): a CUPS queue that trouble
    stopped is started again, then the printer's own status is read. Exit 0 when it can print
    now (the terminal's staff alert clears by itself at its next poll), 1 with the reason it
    still cannot. Jobs that did not print are never printed by this: citizens are offered a
    reprint."""
    from devices.status import DeviceStatus

    with _one_printer(config, kind) as (profile, printer):
        def restart(p: Any) -> DeviceStatus:
            again = getattr(p, "paper_replaced", None)
            status: DeviceStatus = again() if callable(again) else p.status()
            return status

        now = printer.call(restart, DeviceStatus.offline(
            "not_answering", "the printer did not answer in time"),
            timeout_s=profile.timings.device_call_timeout_s * 3, what="paper replaced").value
    if json_out:
        typer.echo(json.dumps({"kind": kind, "state": now.state.value, "reason": now.reason,
                               "message": now.message, "ok": now.usable}, ensure_ascii=False))
    elif now.usable:
        typer.echo(f"paper replaced: {kind} {now.state.value}"
                   + (f" ({now.reason}: {now.message})" if now.reason else ""))
    else:
        typer.echo(f"paper replaced: {kind} still cannot print: {now.reason}: {now.message}",
                   err=True)
    if not now.usable:
        raise typer.Exit(1)
