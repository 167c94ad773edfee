"""Settings of the A4 certificate printer reached through a CUPS queue (`cups`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import AdapterConfig


class CupsConfig(AdapterConfig):
    adapter: Literal["cups"] = "cups"
    """An A4 printer behind a CUPS queue; certificates are sent as PDF."""
    queue: str = Field(min_length=1)
    """The CUPS queue name (lpstat -p lists them)."""
