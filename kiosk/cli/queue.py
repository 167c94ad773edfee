"""`kiosk queue status|list|retry|purge|drain`: what is waiting to reach the back office."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.checks import UrlOpt
from kiosk.config.errors import ConfigError
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.records.dir_lock import DataDirLock
from kiosk.terminal import open_outbox as open_terminal_outbox
from kiosk.terminal import read_token
from offline_queue import HttpTransport, Outbox, SyncWorker

queue_app = typer.Typer(help="The durable outbox: pending, parked and delivered envelopes.",
                        no_args_is_help=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="The kiosk's data directory.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DEFAULT_DIR = Path("/var/lib/kiosk")


def _fail(message: str) -> None:
    typer.echo(f"kiosk: {message}", err=True)
    raise typer.Exit(2)


def _outbox_dir(data_dir: Path) -> Path:
    """The directory of the outbox of a kiosk data dir (or of a demo/simulate dir that holds
    kiosk/)."""
    for d in (data_dir, data_dir / "kiosk"):
        if (d / "outbox.db").is_file():
            return d
    _fail(f"{data_dir}: no outbox here (looked for outbox.db and kiosk/outbox.db)")
    raise AssertionError  # unreachable: _fail() exits


@contextmanager
def open_outbox(data_dir: Path, *, own: bool = False) -> Iterator[Outbox]:
    """The outbox of a kiosk data dir. A read-side tool (own=False) must not take over the
    running worker's in-flight leases; one that delivers (own=True) holds the directory, so
    no kiosk runs on it meanwhile, and takes the leases a crashed one left."""
    d = _outbox_dir(data_dir)
    try:
        lock = DataDirLock(d) if own else None
    except ConfigError as e:
        _fail(str(e))
    try:
        try:
            outbox = open_terminal_outbox(d, recover_leases=own)
        except ConfigError as e:
            _fail(str(e))
        try:
            yield outbox
        finally:
            outbox.close()
    finally:
        if lock is not None:
            lock.release()


@queue_app.command()
def status(data_dir: DataDir = DEFAULT_DIR, json_out: JsonOpt = False) -> None:
    """Counts by state and the age of the oldest envelope not yet delivered."""
    with open_outbox(data_dir) as outbox:
        s = outbox.stats()
    doc = {"pending": s.pending, "in_flight": s.in_flight, "delivered": s.delivered,
           "parked": s.parked, "oldest_pending_age_s": s.oldest_pending_age_s}
    if json_out:
        typer.echo(json.dumps(doc))
        return
    age = "-" if s.oldest_pending_age_s is None else f"{s.oldest_pending_age_s:.0f} s"
    typer.echo(f"pending {s.pending}  in flight {s.in_flight}  parked {s.parked}  "
               f"delivered {s.delivered}  oldest waiting {age}")


@queue_app.command("list")
def list_(
    data_dir: DataDir = DEFAULT_DIR,
    state: Annotated[str | None, typer.Option(help="pending|in_flight|delivered|parked")] = None,
    limit: int = 50,
    json_out: JsonOpt = False,
) -> None:
    """Envelopes, oldest first (kind, key, state, attempts, last error; never the payload)."""
    with open_outbox(data_dir) as outbox:
        try:
            rows = outbox.list(state, limit)
        except ValueError as e:
            _fail(str(e))
    docs = [{"id": e.id, "kind": e.kind, "idempotency_key": e.idempotency_key,
             "status": e.status, "attempts": e.attempts, "last_error": e.last_error,
             "server_answer": e.server_answer, "created_at": e.created_at} for e in rows]
    if json_out:
        typer.echo(json.dumps(docs))
        return
    for d in docs:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(str(d["created_at"]))))
        typer.echo(f"{d['id']:>6} {when} {d['status']:<9} {d['kind']:<20} "
                   f"tries {d['attempts']:<3} {d['server_answer'] or d['last_error'] or ''}")


@queue_app.command()
def retry(
    envelope_id: Annotated[int | None, typer.Argument(help="Id of a parked envelope.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every parked envelope.")] = False,
    data_dir: DataDir = DEFAULT_DIR,
) -> None:
    """Send a parked envelope (or --all of them) again, after the cause was fixed."""
    if (envelope_id is None) == (not all_):
        _fail("name one parked envelope's id, or --all")
    with open_outbox(data_dir) as outbox:
        if all_:
            typer.echo(f"{outbox.unpark_all()} parked envelopes are pending again")
            return
        assert envelope_id is not None
        if not outbox.unpark(envelope_id):
            _fail(f"envelope {envelope_id} is not parked")
    typer.echo(f"envelope {envelope_id} is pending again")


@queue_app.command()
def drain(
    data_dir: DataDir = DEFAULT_DIR,
    backoffice: Annotated[str, UrlOpt("--backoffice", help="The back office's base URL.")] = "",
    token_file: Annotated[Path | None, typer.Option(
        help="The terminal's bearer token (as the profile's backoffice.token_file).")] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1, max=86400.0, help="Seconds before giving up.")] = 60.0,
    json_out: JsonOpt = False,
) -> None:
    """Deliver what is pending, with no kiosk running on the directory (e.g. a crashed or
    retired terminal's); exit 0 once the outbox is empty, 1 with the counts otherwise."""
    if not backoffice:
        _fail("--backoffice URL is required")
    try:
        token = read_token(str(token_file) if token_file else None)
    except ConfigError as e:
        _fail(str(e))
    started = time.monotonic()
    with open_outbox(data_dir, own=True) as outbox:
        before = outbox.stats()
        client = BackOfficeClient(backoffice, token=token)
        worker = SyncWorker(outbox, HttpTransport(client.envelopes_url, headers=client.headers))
        empty = worker.drain(time_limit)
        after = outbox.stats()
    doc = {"delivered": after.delivered - before.delivered, "pending": after.pending,
           "in_flight": after.in_flight, "parked": after.parked,
           "seconds": round(time.monotonic() - started, 3), "last_error": worker.last_error}
    empty = empty and after.parked == 0
    if json_out:
        typer.echo(json.dumps({"empty": empty, **doc}))
    else:
        typer.echo(f"delivered {doc['delivered']}; pending {after.pending}, parked "
                   f"{after.parked} in {doc['seconds']} s"
                   + ("" if empty else f"; last error: {worker.last_error or '-'}"))
    if not empty:
        raise typer.Exit(1)


@queue_app.command()
def purge(
    data_dir: DataDir = DEFAULT_DIR,
    older_than_days: Annotated[float, typer.Option(help="Retention of delivered ones.")] = 30,
) -> None:
    """Delete delivered envelopes past the retention period (pending and parked stay)."""
    with open_outbox(data_dir) as outbox:
        n = outbox.purge_delivered(older_than_days * 86400)
    typer.echo(f"purged {n} delivered envelopes")
