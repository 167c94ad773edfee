"""`kiosk peers`: the wire peers on their own, for trying the technician's tools (discover,
configure, selftest) without hardware: the resident ID SAM reader and the lock boards each on
a pty, the ESC/POS receipt printer on loopback TCP. The production adapters talk to them as to
the real devices. Runs until Ctrl-C (or SIGTERM); stopping it is how a technician sees a
device fail in the readiness report."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer


def peers(
    profile: Annotated[str, typer.Option(
        "--profile", help="Whose locker the boards' peer stands in for (its protocol and "
        "compartments).")] = "gov-hall",
    printed: Annotated[Path, typer.Option(
        "--printed", help="Where the printer's peer draws each receipt (PNG).")] = Path(
        "var/peers/printed"),
    json_out: Annotated[bool, typer.Option("--json", help="Print where they are as JSON.")
                        ] = False,
) -> None:
    """Start the devices' wire peers and say where each listens; stop with Ctrl-C."""
    from kiosk.cli.main import _profile
    from kiosk.demo.locker import locker_peer
    from kiosk.demo.peers import printer_peer, sam_peer

    raw = _profile(profile)
    printed.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        sam = stack.enter_context(sam_peer())
        printer = stack.enter_context(printer_peer(printed))
        boards = stack.enter_context(locker_peer(raw))
        where = {"sam_reader": sam.port, "printer": f"{printer.host}:{printer.port}",
                 "lock_boards": boards.port if boards is not None else None,
                 "lock_protocol": boards.config.adapter if boards is not None else None}
        if json_out:
            typer.echo(json.dumps(where))
        else:
            typer.echo(f"SAM resident ID reader on {where['sam_reader']}")
            typer.echo(f"ESC/POS receipt printer on {where['printer']} (receipts drawn in "
                       f"{printed})")
            if boards is not None:
                typer.echo(f"lock boards ({where['lock_protocol']}) on {where['lock_boards']}")
            typer.echo("Ctrl-C stops them.")
        stop.wait()
