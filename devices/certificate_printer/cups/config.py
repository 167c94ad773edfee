"""Settings of the A4 certificate printer reached through a CUPS queue (`cups`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import AdapterConfig


class CupsConfig(AdapterConfig):
    adapter: Literal["cups"] = "cups"
    """An A4 printer behind a CUPS queue; certificates are sent as PDF."""
    queue: str = Field(min_length=1, pattern=r"^[^\s/#]+$")
    """The CUPS queue name (`lpstat -p` lists them)."""
    server: str | None = None
    """The CUPS server: a host name, or the path of its socket; unset: this machine's
    (/run/cups/cups.sock)."""
    server_port: int = Field(default=631, gt=0, lt=65536)
    """TCP port of a CUPS server given by host name."""
    job_timeout_s: float = Field(default=25.0, gt=0)
    """How long a certificate may take to print before the job is cancelled (and purged, so it
    never comes out later for someone else); under the session's print limit (30 s), so that
    a job is never still printing once the citizen was told it did not."""
