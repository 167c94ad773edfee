"""A binding: one device given a role (a registry kind) in the terminal's profile, and its
test through the DeviceWorker the terminal itself would build for it.

A binding comes from `--bind KIND=ADAPTER:key=value,...`, from a discovery finding, or from
the wizard. The settings it does not give are kept from the starting profile's device of the
same adapter (a locker's compartments, a reader's documents), so binding a port keeps the
rest. A binding is accepted only when its device's first status is usable (ready, busy,
degraded); fault and offline are refused with the device's own reason (Home Assistant's
"configuration is tested against the device before it is saved").
"""

from __future__ import annotations

import gc
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from devices import registry
from devices.config import AdapterConfig, BuildContext
from devices.status import DeviceState, DeviceStatus
from provisioning.findings import Finding, settings_text

NONE = "none"  # KIND=none: that kind is not fitted at this terminal
LIST_SEPARATOR = "+"  # documents=passport+bank_card
# Settings that take the place of others kept from the starting profile.
REPLACES = {"compartments": ("doors",), "doors": ("compartments",)}


class BindingError(ValueError):
    """A binding that cannot be a profile's table: the message says what to write instead."""


@dataclass(frozen=True)
class Binding:
    kind: str
    config: AdapterConfig | None  # None: not fitted
    origin: str  # where it came from, for the technician: "--bind", "found on /dev/ttyUSB0"

    def table(self) -> dict[str, Any]:
        """The `[devices.<kind>]` table for it: what was given, adapter first."""
        assert self.config is not None
        data = self.config.model_dump(mode="json", exclude_unset=True)
        return {"adapter": self.config.adapter, **{k: v for k, v in data.items()
                                                   if k != "adapter"}}

    def describe(self) -> str:
        if self.config is None:
            return f"{self.kind}: none fitted"
        return f"{self.kind} {settings_text(self.table())}"


@dataclass(frozen=True)
class Tested:
    binding: Binding
    status: DeviceStatus

    @property
    def accepted(self) -> bool:
        return self.status.usable

    def verdict(self) -> str:
        s = self.status
        said = s.state.value + (f" ({s.reason})" if s.reason else "") + (
            f": {s.message}" if s.message else "")
        return said if self.accepted else f"refused, {said}"


def _coerce(model: type[AdapterConfig], key: str, text: str) -> Any:
    """A `--bind` value as the model's field wants it: lists split on '+'."""
    field = model.model_fields.get(key)
    if field is not None and typing.get_origin(field.annotation) in (tuple, list):
        return [t for t in text.split(LIST_SEPARATOR) if t]
    return text


def parse_bind(text: str) -> tuple[str, str, dict[str, Any]]:
    """`KIND=ADAPTER:key=value,key=value` (or `KIND=none`) -> kind, adapter, settings."""
    kind_name, sep, rest = text.partition("=")
    if not sep or not rest:
        raise BindingError(f"--bind {text!r}: write KIND=ADAPTER:key=value,... or KIND=none")
    try:
        kind = registry.kind(kind_name.strip())
    except KeyError as e:
        raise BindingError(f"--bind {text!r}: {e.args[0]}") from None
    adapter, _, pairs = rest.partition(":")
    adapter = adapter.strip()
    if adapter == NONE:
        if pairs:
            raise BindingError(f"--bind {text!r}: {NONE} takes no settings")
        return kind.name, NONE, {}
    try:
        spec = kind.adapter(adapter)
    except KeyError:
        names = ", ".join(a.name for a in kind.adapters)
        raise BindingError(f"--bind {text!r}: {kind.name} has no adapter {adapter!r} "
                           f"(adapters: {names}, or {NONE})") from None
    settings: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in pairs.split(","))):
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise BindingError(f"--bind {text!r}: {pair!r} is not key=value")
        settings[key.strip()] = _coerce(spec.config, key.strip(), value.strip())
    return kind.name, adapter, settings


def make_binding(kind: str, adapter: str, settings: Mapping[str, Any], origin: str,
                 kept: Sequence[Mapping[str, Any]] = ()) -> Binding:
    """The binding, its settings completed from the first of `kept` (the starting profile's
    tables of this kind) with the same adapter; BindingError when they are not valid."""
    if adapter == NONE:
        return Binding(kind, None, origin)
    spec = registry.kind(kind).adapter(adapter)
    base = next((dict(t) for t in kept if t.get("adapter") == adapter), {})
    for key in settings:
        for replaced in REPLACES.get(key, ()):
            base.pop(replaced, None)
    data = {**base, **settings, "adapter": adapter}
    try:
        return Binding(kind, spec.config.model_validate(data), origin)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        more = f" (+{len(e.errors()) - 1} more problems)" if len(e.errors()) > 1 else ""
        raise BindingError(f"{kind} {adapter}: {where}: {first['msg']}{more} "
                           f"(keys: {', '.join(k for k in spec.config.model_fields)})") from None


def from_text(text: str, kept: Mapping[str, Sequence[Mapping[str, Any]]]) -> Binding:
    kind, adapter, settings = parse_bind(text)
    return make_binding(kind, adapter, settings, "--bind", kept.get(kind, ()))


def from_finding(finding: Finding, kept: Sequence[Mapping[str, Any]] = ()) -> Binding:
    assert finding.kind is not None and finding.adapter is not None
    settings = {k: v for k, v in (finding.settings or {}).items() if k != "adapter"}
    return make_binding(finding.kind, finding.adapter, settings,
                        f"found at {finding.where}", kept)


def try_binding(binding: Binding, data_dir: Path, *, allow_simulators: bool,
                 call_timeout_s: float) -> Tested:
    """Build the device's worker as the terminal would, and read its first status."""
    from devices.fitted import DeviceBuildError, build_device_set

    assert binding.config is not None
    try:
        devices = build_device_set([(binding.kind, (binding.config,))], BuildContext(data_dir),
                                   allow_simulators=allow_simulators,
                                   call_timeout_s=call_timeout_s)
    except DeviceBuildError as e:
        return Tested(binding, DeviceStatus(DeviceState.FAULT, "not_buildable", e.problem))
    try:
        status = next(iter(devices)).refresh().status
    finally:
        devices.stop()
        # The adapters keep their link open for the next call; nothing else will call: drop
        # them now, so that the port, or the printer's one connection, is free for the next
        # test (of another binding on it) and for the terminal.
        del devices
        gc.collect()
    return Tested(binding, status)
