"""`kiosk provision discover` and `kiosk provision configure`: the typer options, wired to
discover.py and to configure.py, wizard.py and scripted.py. Everything heavier than typer is
imported inside the commands (the `kiosk` command's start-up time matters)."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from provisioning.configure import Source, Tester
    from provisioning.discover import DiscoverOptions

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PortsOpt = Annotated[list[str] | None, typer.Option(
    "--ports", help="A serial port to ask besides the listed ones (a device, a pty, "
    "socket://host:port); repeat it, or separate with commas.")]
HostsOpt = Annotated[list[str] | None, typer.Option(
    "--hosts", help="A host to ask for a receipt printer (HOST or HOST:PORT); repeat it.")]
SubnetOpt = Annotated[list[str] | None, typer.Option(
    "--subnet", help="Ask every host of this subnet (CIDR, at most a /20) for a receipt "
    "printer; only the printers' own network: whatever listens gets 4 status bytes.")]
TimeoutOpt = Annotated[float, typer.Option(
    "--timeout", help="Seconds one device has to answer one question (and a TCP connect).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", help="Also print the device log.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"kiosk provision: {message}", err=True)
    raise typer.Exit(code)


def _many(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for given in values or () for v in given.split(",") if v.strip())


@contextlib.contextmanager
def _device_log(verbose: bool) -> Iterator[None]:
    """The commands say what each device answered; the device log repeats it, unless asked."""
    logger = logging.getLogger("devices")
    before = logger.level
    if not verbose:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def _console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: no wrapping at 80 columns
        console = Console(highlight=False, width=200, soft_wrap=True)
    return console


def _options(ports: list[str] | None, hosts: list[str] | None, subnet: list[str] | None,
             timeout: float, **more: Any) -> DiscoverOptions:
    from provisioning.discover import DiscoverOptions, check

    options = DiscoverOptions(ports=_many(ports), hosts=_many(hosts), subnets=_many(subnet),
                              timeout_s=timeout, **more)
    try:
        check(options)
    except ValueError as e:
        _fail(str(e))
    return options


def discover(
    json_out: JsonOpt = False,
    ports: PortsOpt = None,
    hosts: HostsOpt = None,
    subnet: SubnetOpt = None,
    timeout: TimeoutOpt = 0.3,
    ports_only: Annotated[bool, typer.Option(
        "--ports-only", help="Ask only the --ports given, not the ports the system lists.")]
    = False,
    printer_port: Annotated[int, typer.Option(
        "--printer-port", min=1, max=65535, help="TCP port asked on --subnet hosts and on "
        "--hosts given without one.")] = 9100,
    cups_server: Annotated[str | None, typer.Option(
        "--cups-server", help="List this CUPS server's queues (a host, or its socket's "
        "path) instead of this machine's.")] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Find this terminal's devices and say what to bind them as.

    PC/SC readers, serial ports (each asked in every known protocol; a lock board only for its
    door sensors, never to open a door), network and USB receipt printers, cameras, CUPS
    queues. Stop the kiosk first: it holds the ports. Exit 0 even when nothing is found."""
    import json

    from provisioning.discover import discover as run
    from provisioning.discover import render

    options = _options(ports, hosts, subnet, timeout, listed_ports=not ports_only,
                       printer_port=printer_port, cups_server=cups_server)
    with _device_log(verbose):
        findings = run(options)
    if json_out:
        typer.echo(json.dumps([f.as_json() for f in findings], ensure_ascii=False, indent=1))
    else:
        render(findings, _console())


def _tester(source: Source, data_dir: Path) -> Tester:
    from provisioning.bindings import Binding, Tested, try_binding

    def test(binding: Binding) -> Tested:
        return try_binding(binding, data_dir, allow_simulators=source.profile.allow_simulators,
                           call_timeout_s=source.profile.timings.device_call_timeout_s)

    return test


def configure(
    source_name: Annotated[str | None, typer.Option(
        "--from", help="Start from this profile: gov-hall, bank-branch, or a file.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="The terminal's profile to write, e.g. /etc/kiosk/terminal.toml.")]
    = None,
    terminal_id: Annotated[str | None, typer.Option(
        "--terminal-id", help="The terminal's id at the back office (e.g. SH-PD-0002).")]
    = None,
    bind: Annotated[list[str] | None, typer.Option(
        "--bind", help="KIND=ADAPTER:key=value,key=value (lists: a+b), or KIND=none; repeat "
        "it (several id_reader). Keys not given are kept from the starting profile's device "
        "of the same adapter.")] = None,
    bind_discovered: Annotated[Path | None, typer.Option(
        "--bind-discovered", help="Bind what `kiosk provision discover --json` found (the "
        "file it wrote); --bind wins for its kind.")] = None,
    backoffice_url: Annotated[str | None, typer.Option(
        "--backoffice-url", help="The back office's base URL.")] = None,
    drop_untested: Annotated[bool, typer.Option(
        "--drop-untested", help="Leave out the starting profile's devices that were not "
        "bound (instead of keeping them untested).")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Ask nothing (for scripts): --from and --out are then required.")]
    = False,
    json_out: JsonOpt = False,
    ports: PortsOpt = None,
    hosts: HostsOpt = None,
    subnet: SubnetOpt = None,
    timeout: TimeoutOpt = 0.3,
    verbose: VerboseOpt = False,
) -> None:
    """Make this terminal's profile, every device bound tested first.

    Starts from a shipped profile, binds devices to their roles (each tested through its
    worker before it is saved: one whose first status is fault or offline is refused with the
    reason), writes it and checks it as `kiosk run` would. Without --yes it asks, one question
    at a time (--ports, --hosts, --subnet for its discovery). Exit 1 when a binding is refused
    or the result is not a valid profile: nothing is written then."""
    from kiosk.config.errors import ConfigError
    from provisioning.configure import load_source
    from provisioning.scripted import Flags, UsageError, read_findings, run_flags

    console = _console()
    try:
        findings = read_findings(bind_discovered) if bind_discovered is not None else None
    except UsageError as e:
        _fail(str(e))
    with tempfile.TemporaryDirectory(prefix="kiosk-configure-") as tmp, _device_log(verbose):
        if not yes:
            from provisioning.discover import discover as run
            from provisioning.wizard import WizardInput, run_wizard

            if json_out:
                _fail("--json goes with --yes (the wizard talks to a person)")
            options = _options(ports, hosts, subnet, timeout)
            given = WizardInput(source_name, out, terminal_id, backoffice_url,
                                _many_binds(bind), findings)
            code = run_wizard(console, given, lambda: run(options),
                              lambda source: _tester(source, Path(tmp)))
            raise typer.Exit(code)
        if source_name is None or out is None:
            _fail("--yes needs --from (gov-hall, bank-branch or a file) and --out FILE")
        try:
            source = load_source(source_name)
        except ConfigError as e:
            _fail(str(e))
        flags = Flags(out, terminal_id, backoffice_url, _many_binds(bind), findings or [],
                      drop_untested)
        try:
            code = run_flags(console, source, flags, _tester(source, Path(tmp)), json_out)
        except UsageError as e:
            _fail(str(e))
    raise typer.Exit(code)


def _many_binds(values: list[str] | None) -> list[str]:
    return [v for v in values or () if v.strip()]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `kiosk provision`."""
    app.command()(discover)
    app.command()(configure)
