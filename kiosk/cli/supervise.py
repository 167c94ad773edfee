"""`kiosk supervise --watchdog-sec N -- COMMAND...`: the kiosk's watchdog where systemd is not
the service manager (kiosk/ops/supervise.py). Registered in main.py with SUPERVISE_CONTEXT:
everything from the first word of COMMAND on is the command's, not ours."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

SUPERVISE_CONTEXT = {"allow_interspersed_args": False}


def _fail(message: str) -> None:
    typer.echo(f"kiosk supervise: {message}", err=True)
    raise typer.Exit(2)


def supervise(
    command: Annotated[list[str], typer.Argument(
        metavar="COMMAND", help="What to run, after --: e.g. -- kiosk run --config FILE.")],
    watchdog_sec: Annotated[float, typer.Option(
        "--watchdog-sec", min=0.0, help="WatchdogSec=: the longest silence after READY=1 "
        "before the command is killed (SIGABRT, then SIGKILL) and started again; 0: none.")],
    start_timeout_sec: Annotated[float, typer.Option(
        "--start-timeout-sec", min=0.1, help="TimeoutStartSec=: from start to READY=1.")] = 90.0,
    restart_sec: Annotated[float, typer.Option(
        "--restart-sec", min=0.0, help="RestartSec=: the pause before starting again.")] = 2.0,
    stop_timeout_sec: Annotated[float, typer.Option(
        "--stop-timeout-sec", min=0.1,
        help="TimeoutStopSec=: after SIGTERM (or the watchdog's SIGABRT), then SIGKILL.")] = 10.0,
    start_limit_burst: Annotated[int, typer.Option(
        "--start-limit-burst", min=1,
        help="StartLimitBurst=: give up after this many starts ...")] = 5,
    start_limit_interval_sec: Annotated[float, typer.Option(
        "--start-limit-interval-sec", min=0.0,
        help="StartLimitIntervalSec=: ... within this many seconds.")] = 60.0,
    log: Annotated[Path | None, typer.Option(
        "--log", help="Append the events (JSON lines) here; default: stderr.")] = None,
    status_file: Annotated[Path | None, typer.Option(
        "--status-file", help="Keep the latest event and state here (JSON).")] = None,
) -> None:
    """Run COMMAND the way systemd runs kiosk.service (Type=notify, WatchdogSec=,
    Restart=always), for machines without systemd: it must say READY=1 and then WATCHDOG=1
    on $NOTIFY_SOCKET; silence is a hang, and it is killed and started again. SIGTERM stops
    both. Exits 1 when the start-rate limit gives up."""
    from kiosk.ops.supervise import EventLog, Supervisor, SupervisorSettings

    if not command:
        _fail("give the command to run after --, e.g. -- kiosk run --config FILE")
    if shutil.which(command[0]) is None:
        _fail(f"{command[0]}: not found or not executable")
    try:
        out = log.open("a", encoding="utf-8") if log else sys.stderr
    except OSError as e:
        _fail(f"{log}: cannot be written: {e.strerror}")
    settings = SupervisorSettings(
        watchdog_s=watchdog_sec, start_timeout_s=start_timeout_sec, restart_s=restart_sec,
        stop_timeout_s=stop_timeout_sec, start_limit_burst=start_limit_burst,
        start_limit_interval_s=start_limit_interval_sec)
    try:
        code = Supervisor(command, settings, EventLog(out, status_file)).run()
    finally:
        if out is not sys.stderr:
            out.close()
    if code:
        typer.echo(f"kiosk supervise: gave up at the start-rate limit ({start_limit_burst} "
                   f"starts within {start_limit_interval_sec:g} s); the log says why", err=True)
        raise typer.Exit(code)
