"""`kiosk provision ...`: a technician's way from a fresh install to an enrolled, self-tested
terminal. Plugged into the `kiosk` command by the `kiosk.commands` entry point."""

from __future__ import annotations

import typer

from provisioning import commands_devices, commands_terminal

provision_app = typer.Typer(
    help="Set up a terminal: discover devices, configure, enrol, self-test.",
    no_args_is_help=True,
)
commands_devices.register(provision_app)  # discover, configure
commands_terminal.register(provision_app)  # enroll, selftest
