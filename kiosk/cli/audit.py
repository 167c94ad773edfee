"""`kiosk audit ...`: the audit log's chain, checked."""

from __future__ import annotations

import typer

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
