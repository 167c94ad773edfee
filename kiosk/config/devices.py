"""The `[devices]` part of a profile, made from the device registry (devices/registry.py).

One optional table per kind, validated against the union of that kind's adapter models; a kind
that can be fitted several times (id_reader) also takes an array of tables
(`[[devices.id_reader]]`), and a single table still means one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from devices import registry
from devices.config import AdapterConfig


class DevicesBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def configs(self, kind: str) -> tuple[AdapterConfig, ...]:
        """The fitted devices of one kind (empty: not fitted)."""
        value = getattr(self, registry.kind(kind).name)
        if value is None:
            return ()
        return tuple(value) if isinstance(value, tuple) else (value,)

    def fitted(self) -> list[tuple[str, tuple[AdapterConfig, ...]]]:
        """Every fitted kind with its devices, in the registry's order."""
        return [(k, c) for k in registry.KIND_NAMES if (c := self.configs(k))]

    @field_validator("*", mode="before")
    @classmethod
    def _one_table_is_a_list_of_one(cls, v: Any, info: Any) -> Any:
        if registry.kind(info.field_name).many and isinstance(v, Mapping):
            return [v]
        return v


def _fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec in registry.KINDS:
        union: Any = registry.config_type(spec.name)  # a type made at run time, from the table
        if spec.many:
            fields[spec.name] = (tuple.__class_getitem__((union, ...)),
                                 Field(default=(), description=spec.title))
        else:
            fields[spec.name] = (Optional.__getitem__(union),
                                 Field(default=None, description=spec.title))
    return fields


if TYPE_CHECKING:
    Devices = DevicesBase
else:
    Devices = create_model("Devices", __base__=DevicesBase, **_fields())


def with_configs(devices: DevicesBase,
                 replace: Mapping[str, tuple[AdapterConfig, ...]]) -> DevicesBase:
    """The same [devices] with some kinds' configurations replaced."""
    kinds = dict(devices.fitted())
    kinds.update(replace)
    data = {k: (list(c) if registry.kind(k).many else c[0]) for k, c in kinds.items() if c}
    return Devices(**data)


def key_path(loc: tuple[int | str, ...], raw: Mapping[str, Any]) -> tuple[int | str, ...]:
    """A validation error's location as the profile's author wrote it: without the adapter
    tag pydantic puts in (devices.printer.escpos_network.host -> devices.printer.host), and
    without the index of a kind given as a single table."""
    if len(loc) < 2 or loc[0] != "devices" or loc[1] not in registry.KIND_NAMES:
        return loc
    kind = registry.kind(str(loc[1]))
    head, rest = list(loc[:2]), list(loc[2:])
    given = raw.get("devices", {}).get(kind.name) if isinstance(raw.get("devices"), dict) else None
    if kind.many and rest and isinstance(rest[0], int):
        index = rest.pop(0)
        if not isinstance(given, Mapping):
            head.append(index)
    if rest and rest[0] in {a.name for a in kind.adapters}:
        rest.pop(0)
    return (*head, *rest)
