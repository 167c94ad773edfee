"""The interactive `kiosk provision configure`: the technician at the terminal, one question
at a time.

It asks for the starting profile, the file to write, the terminal's id and back office, then
goes through the kinds in the registry's order: for each, the devices discovery found for it,
the starting profile's own (kept as it is, untested), one typed by hand, or none. Every device
chosen is tested through its worker at once; a refused one is said with its reason and the
question is asked again. Nothing is written until the technician has seen the summary and said
yes, and then only a profile that validates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from devices import registry
from kiosk.config.errors import ConfigError
from provisioning.bindings import Binding, BindingError, Tested, from_finding, from_text
from provisioning.configure import Choice, Source, Tester, load_source, save
from provisioning.findings import Finding, settings_text

DEFAULT_OUT = "/etc/kiosk/terminal.toml"


@dataclass
class WizardInput:
    """What the command line already said; the rest is asked."""

    source: str | None = None
    out: Path | None = None
    terminal_id: str | None = None
    backoffice_url: str | None = None
    preset: list[str] = field(default_factory=list)  # --bind: tried first, asked if refused
    findings: list[Finding] | None = None  # --bind-discovered; None: offer to discover now


def _say(console: Any, text: str) -> None:
    console.print(text, highlight=False)


def _ask_source(console: Any, given: str | None) -> Source:
    while True:
        name = given or typer.prompt(
            "Start from which profile (gov-hall, bank-branch, or a file)", default="gov-hall")
        try:
            return load_source(name)
        except ConfigError as e:
            _say(console, f"[red]{escape(str(e))}[/]")
            given = None


def _ask_valid(question: str, default: str, problem: Callable[[str], str | None],
               console: Any) -> str:
    while True:
        answer = str(typer.prompt(question, default=default)).strip()
        trouble = problem(answer)
        if trouble is None:
            return answer
        _say(console, f"[red]{escape(trouble)}[/]")


def _model_problem(model: Any, **values: Any) -> str | None:
    try:
        model.model_validate(values)
    except ValidationError as e:
        return str(e.errors()[0]["msg"])
    return None


def _ask_terminal(console: Any, source: Source, given: WizardInput) -> tuple[str, str | None]:
    from kiosk.config.profile import BackOffice, Terminal

    name = source.raw.get("terminal", {}).get("name", {})
    terminal_id = _ask_valid(
        "Terminal id (as the back office knows it)",
        given.terminal_id or source.profile.terminal.id,
        lambda v: _model_problem(Terminal, id=v, name=name), console)
    url = _ask_valid(
        "Back-office URL", given.backoffice_url or source.profile.backoffice.url or "",
        lambda v: None if not v else _model_problem(BackOffice, url=v), console)
    return terminal_id, url or None


def _show(console: Any, t: Tested) -> None:
    colour = "green" if t.accepted else "red"
    _say(console, f"  [{colour}]{escape(t.binding.describe())}: {escape(t.verdict())}[/]")


def _kind(console: Any, kind: str, source: Source, found: list[Finding], tester: Tester,
          preset: list[Binding]) -> list[Tested] | None:
    """The devices bound to `kind` ([] none fitted), or None to keep the source's."""
    spec = registry.kind(kind)
    kept = source.tables(kind)
    _say(console, f"\n[bold]{kind}[/]: {spec.title}")
    for table in kept:
        _say(console, escape(f"  in {source.name}: {settings_text(table)}"))
    accepted: list[Tested] = []
    if preset:
        results = [tester(b) for b in preset]
        for t in results:
            _show(console, t)
        if all(t.accepted for t in results):
            return results
        accepted = [t for t in results if t.accepted]
    candidates = list(found)
    while True:
        if accepted and not spec.many:
            return accepted
        options: dict[str, str] = {str(i): f"{settings_text(f.settings)}  ({f.where}: "
                                   f"{f.detail})" for i, f in enumerate(candidates, 1)}
        if accepted:
            options["d"] = "done"
        else:
            if kept:
                options["k"] = f"keep {source.name}'s, without a test"
            options["n"] = "none fitted"
        options["m"] = "type one: ADAPTER:key=value,..."
        for key, text in options.items():
            _say(console, escape(f"  {key}) {text}"))
        default = "1" if candidates else ("d" if accepted else ("k" if kept else "n"))
        answer = str(typer.prompt(f"  {kind}", default=default)).strip().lower()
        if answer == "d" and accepted:
            return accepted
        if answer == "k" and kept and not accepted:
            return None
        if answer == "n" and not accepted:
            return []
        binding = _binding(console, kind, answer, candidates, source)
        if binding is None:
            continue
        tested = tester(binding)
        _show(console, tested)
        if not tested.accepted:
            _say(console, "  pick another, fix it, or choose none")
            continue
        accepted.append(tested)
        if answer.isdigit():  # bound: not offered again for a second reader
            del candidates[int(answer) - 1]


def _binding(console: Any, kind: str, answer: str, candidates: list[Finding],
             source: Source) -> Binding | None:
    try:
        if answer.isdigit() and 1 <= int(answer) <= len(candidates):
            return from_finding(candidates[int(answer) - 1], source.tables(kind))
        if answer == "m":
            typed = str(typer.prompt("  adapter and settings (e.g. rs485_8a80:port=/dev/ttyUSB0)"))
            binding = from_text(f"{kind}={typed.strip()}", source.kept())
            if binding.config is None:
                _say(console, "  that is none: choose n")
                return None
            return binding
    except BindingError as e:
        _say(console, f"  [red]{escape(str(e))}[/]")
        return None
    _say(console, escape(f"  {answer!r} is not one of the choices"))
    return None


def run_wizard(console: Any, given: WizardInput, discover_now: Callable[[], list[Finding]],
               make_tester: Callable[[Source], Tester]) -> int:
    """0 written, 1 the technician stopped or the result did not validate."""
    source = _ask_source(console, given.source)
    out = given.out or Path(typer.prompt("Write the terminal's profile to", default=DEFAULT_OUT))
    terminal_id, url = _ask_terminal(console, source, given)
    findings = given.findings
    if findings is None and typer.confirm("Look for devices now?", default=True):
        _say(console, "Looking (serial ports, readers, printers, cameras, CUPS)...")
        findings = discover_now()
        from provisioning.discover import render

        render(findings, console)
    by_kind: dict[str, list[Finding]] = {}
    for f in findings or []:
        if f.bindable and f.kind is not None:
            by_kind.setdefault(f.kind, []).append(f)
    presets: list[Binding] = []
    for text in given.preset:
        try:
            presets.append(from_text(text, source.kept()))
        except BindingError as e:
            _say(console, f"[red]{escape(str(e))}[/] (asked below instead)")
    tester = make_tester(source)
    choice = Choice(terminal_id, url)
    for kind in registry.KIND_NAMES:
        preset = [b for b in presets if b.kind == kind]
        if any(b.config is None for b in preset):
            choice.bound[kind] = []
            continue
        result = _kind(console, kind, source, by_kind.get(kind, []), tester, preset)
        if result is not None:
            choice.bound[kind] = result
    _summary(console, source, choice)
    if not typer.confirm(f"Write {out}?", default=True):
        _say(console, "Nothing written.")
        return 1
    try:
        profile = save(source, choice, out)
    except ConfigError as e:
        _say(console, f"[red]{escape(str(e))}[/]")
        return 1
    _say(console, f"[green]Wrote {escape(str(out))}[/] (terminal {profile.terminal.id}). "
         + escape(f"Next: kiosk provision enroll, then kiosk provision selftest --config {out}"))
    return 0


def _summary(console: Any, source: Source, choice: Choice) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="The terminal's devices")
    for column in ("kind", "adapter and settings", "test"):
        table.add_column(column, overflow="fold")
    for kind in registry.KIND_NAMES:
        if kind in choice.bound:
            if not choice.bound[kind]:
                table.add_row(kind, "none fitted", "-")
            for t in choice.bound[kind]:
                table.add_row(kind, Text(settings_text(t.binding.table())), Text(t.verdict()))
        else:
            for kept in source.tables(kind):
                table.add_row(kind, Text(settings_text(kept)),
                              Text(f"kept from {source.name}, untested"))
    console.print(table)
