"""What every adapter's configuration model shares.

Each adapter declares its settings as a pydantic model beside its code, one docstring per field;
the registry (devices/registry.py) puts them into a union discriminated on `adapter`, and the
deployment profile validates `[devices.<kind>]` against it.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class AdapterConfig(BaseModel):
    # Field docstrings are read by field_docs when asked, not by pydantic at every import
    # (use_attribute_docstrings parses each model's source: tens of ms of every cold start).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    adapter: str
    """Which adapter drives the device (see `kiosk device list`)."""

    # A simulator's settings for headless runs (`kiosk simulate`): the citizen acts at once.
    INSTANT: ClassVar[dict[str, Any]] = {}

    def accepts(self) -> tuple[str, ...]:
        """For identity readers: the documents a citizen can present to it (resident_id,
        residence_permit, passport, bank_card); other kinds accept none."""
        return ()


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each field's docstring (the string under it, in the model or the class it inherits it
    from), read from the source when asked (`kiosk device list`); "" for an undocumented one."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not issubclass(cls, BaseModel) or cls is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return {name: docs.get(name) or field.description or ""
            for name, field in model.model_fields.items()}


class SerialPortConfig(AdapterConfig):
    """An adapter that speaks over a serial line (RS-232, RS-485, USB serial, a pty)."""

    port: str = Field(min_length=1)
    """Serial port: a device (/dev/ttyUSB0), a pty, or a pyserial URL (socket://host:port)."""


@dataclass(frozen=True)
class BuildContext:
    """What an adapter may need from the terminal when it is built."""

    data_dir: Path  # the terminal's own directory (a simulator writes what it "prints" here)
