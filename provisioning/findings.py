"""What discovery reports: one row per device found, or per place looked at where nothing
usable was (a silent port, pcscd not running), in the form a profile takes.

A finding's `settings` is exactly the `[devices.<kind>]` table a profile would hold for it,
`adapter` included, so `kiosk provision configure --bind-discovered` binds it as it stands and
a technician can copy it into a profile by hand. A row without an adapter is a note: there is
nothing to bind, only something to know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devices import registry


@dataclass(frozen=True)
class Finding:
    kind: str | None
    """A registry kind (devices/registry.py); None where it could be anything (a silent port)."""
    adapter: str | None
    """The adapter that drives it; None: a note, nothing to bind."""
    settings: dict[str, Any] | None
    """The profile's `[devices.<kind>]` table for it (with `adapter`); None for a note."""
    where: str
    """The port, host:port, USB bus and address, reader or queue."""
    detail: str
    """What answered, or why nothing did, in a sentence for the technician."""

    @property
    def bindable(self) -> bool:
        return self.adapter is not None and self.settings is not None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "adapter": self.adapter, "settings": self.settings,
                "where": self.where, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Any) -> Finding:
        """One row of `discover --json`; ValueError (one line) when it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError(f"not a finding: {data!r:.80}")
        kind, adapter, settings = data.get("kind"), data.get("adapter"), data.get("settings")
        if kind is not None and kind not in registry.KIND_NAMES:
            raise ValueError(f"unknown device kind {kind!r}")
        if adapter is not None:
            if kind is None or adapter not in {a.name for a in registry.kind(kind).adapters}:
                raise ValueError(f"{kind} has no adapter {adapter!r}")
            if not isinstance(settings, Mapping) or settings.get("adapter") != adapter:
                raise ValueError(f"{kind} {adapter}: settings must be a table naming the "
                                 "same adapter")
        return cls(kind, adapter, dict(settings) if isinstance(settings, Mapping) else None,
                   str(data.get("where", "")), str(data.get("detail", "")))


def note(kind: str | None, where: str, detail: str) -> Finding:
    """A row with nothing to bind."""
    return Finding(kind, None, None, where, detail)


def found(kind: str, settings: dict[str, Any], where: str, detail: str) -> Finding:
    """A device a profile can fit as it stands: `settings` names its adapter."""
    return Finding(kind, str(settings["adapter"]), settings, where, detail)


def settings_text(settings: Mapping[str, Any] | None) -> str:
    """`adapter key=value ...` for a table cell (compartments are only counted)."""
    if not settings:
        return "-"
    parts = [str(settings.get("adapter", "?"))]
    for key, value in settings.items():
        if key == "adapter":
            continue
        if key == "compartments":
            parts.append(f"compartments=[{len(value)}]")
        elif key in ("usb_vendor", "usb_product") and isinstance(value, int):
            parts.append(f"{key}=0x{value:04x}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)
