"""`kiosk queue status|list|retry|purge`: what is waiting to reach the back office."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from kiosk.config.errors import ConfigError
from kiosk.terminal import open_outbox as open_terminal_outbox
from offline_queue import Outbox

queue_app = typer.Typer(help="The durable outbox: pending, parked and delivered envelopes.",
                        no_args_is_help=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="The kiosk's data directory.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DEFAULT_DIR = Path("/var/lib/kiosk")


def _fail(message: str) -> None:
    typer.echo(f"kiosk: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def open_outbox(data_dir: Path) -> Iterator[Outbox]:
    """The outbox of a kiosk data dir (or of a demo/simulate dir that holds kiosk/)."""
    for d in (data_dir, data_dir / "kiosk"):
        if (d / "outbox.db").is_file():
            break
    else:
        _fail(f"{data_dir}: no outbox here (looked for outbox.db and kiosk/outbox.db)")
    try:
        # A read-side tool must not take over the running worker's in-flight leases.
        outbox = open_terminal_outbox(d, recover_leases=False)
    except ConfigError as e:
        _fail(str(e))
    try:
        yield outbox
    finally:
        outbox.close()


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
             "created_at": e.created_at} for e in rows]
    if json_out:
        typer.echo(json.dumps(docs))
        return
    for d in docs:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(str(d["created_at"]))))
        typer.echo(f"{d['id']:>6} {when} {d['status']:<9} {d['kind']:<20} "
                   f"tries {d['attempts']:<3} {d['last_error'] or ''}")


@queue_app.command()
def retry(
    envelope_id: Annotated[int, typer.Argument(help="Id of a parked envelope.")],
    data_dir: DataDir = DEFAULT_DIR,
) -> None:
    """Send a parked envelope again (after the cause was fixed)."""
    with open_outbox(data_dir) as outbox:
        if not outbox.unpark(envelope_id):
            _fail(f"envelope {envelope_id} is not parked")
    typer.echo(f"envelope {envelope_id} is pending again")


@queue_app.command()
def purge(
    data_dir: DataDir = DEFAULT_DIR,
    older_than_days: Annotated[float, typer.Option(help="Retention of delivered ones.")] = 30,
) -> None:
    """Delete delivered envelopes past the retention period (pending and parked stay)."""
    with open_outbox(data_dir) as outbox:
        n = outbox.purge_delivered(older_than_days * 86400)
    typer.echo(f"purged {n} delivered envelopes")
