"""`kiosk provision configure --yes`: the wizard's work with no question asked, for scripts.

Every binding given (`--bind`) or found (`--bind-discovered`, a `discover --json` file) is
tested through its worker; one refused binding and nothing is written (exit 1), since a script
cannot pick another. Kinds bound neither way are kept from the starting profile, untested, and
said so, or left out with `--drop-untested`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from kiosk.config.errors import ConfigError
from provisioning.bindings import BindingError, Tested, from_text
from provisioning.configure import Choice, Source, Tester, save, settle
from provisioning.findings import Finding, settings_text


class UsageError(ValueError):
    """A flag that cannot be followed: exit 2 with this line."""


def read_findings(path: Path) -> list[Finding]:
    """A `kiosk provision discover --json` file."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"--bind-discovered {path}: cannot read: {e.strerror}") from e
    except ValueError as e:
        raise UsageError(f"--bind-discovered {path}: not JSON: {e}") from e
    if not isinstance(rows, list):
        raise UsageError(f"--bind-discovered {path}: not the list discover --json prints")
    try:
        return [Finding.from_json(r) for r in rows]
    except ValueError as e:
        raise UsageError(f"--bind-discovered {path}: {e}") from e


@dataclass(frozen=True)
class Flags:
    out: Path
    terminal_id: str | None
    backoffice_url: str | None
    binds: Sequence[str]
    discovered: Sequence[Finding]
    drop_untested: bool


def _row(t: Tested) -> dict[str, Any]:
    s = t.binding.table()
    return {"kind": t.binding.kind, "adapter": s["adapter"], "settings": s,
            "origin": t.binding.origin, "accepted": t.accepted, "state": t.status.state.value,
            "reason": t.status.reason, "message": t.status.message}


def run_flags(console: Any, source: Source, flags: Flags, tester: Tester,
              as_json: bool) -> int:
    """0 written, 1 a binding refused or the result invalid (nothing written); UsageError."""
    try:
        explicit = [from_text(b, source.kept()) for b in flags.binds]
        settled = settle(source, explicit, flags.discovered, tester)
    except BindingError as e:
        raise UsageError(str(e)) from e
    choice = Choice(flags.terminal_id, flags.backoffice_url, settled.bound, flags.drop_untested)
    kept = choice.kept_kinds(source)
    problem = None
    written = terminal_id = None
    if settled.refused:
        t = settled.refused[0]
        problem = (f"{t.binding.describe()} ({t.binding.origin}): {t.verdict()}"
                   + (f" (+{len(settled.refused) - 1} more refused)"
                      if len(settled.refused) > 1 else "") + "; nothing written")
    else:
        try:
            terminal_id = save(source, choice, flags.out).terminal.id
            written = str(flags.out)
        except ConfigError as e:
            problem = str(e)
    if as_json:
        typer.echo(json.dumps({
            "written": written, "source": source.name,
            "terminal_id": terminal_id,
            "tested": [_row(t) for t in settled.tried],
            "kept_untested": [{"kind": k, "settings": source.tables(k)} for k in kept],
            "problem": problem}, ensure_ascii=False, indent=1))
    else:
        for t in settled.tried:
            mark = "[green]ok[/]     " if t.accepted else "[red]refused[/]"
            console.print(mark + escape(f" {t.binding.describe()} ({t.binding.origin}): "
                                        f"{t.verdict()}"), highlight=False)
        for k in kept:
            for table in source.tables(k):
                console.print(escape(f"kept    {k} {settings_text(table)}: from "
                                     f"{source.name}, not tested"), highlight=False)
        if written:
            console.print(escape(f"Wrote {written} (terminal {terminal_id}). Check it: "
                                 f"kiosk device status --config {written}"), highlight=False)
    if problem:
        typer.echo(f"kiosk provision configure: {problem}", err=True)
        return 1
    return 0
