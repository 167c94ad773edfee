"""`kiosk provision discover`: every place a device of this terminal can be, looked at once.

PC/SC readers, serial ports (each asked in every known protocol: serial_scan.py), network
receipt printers on the hosts and subnets given (network_scan.py), USB printers, cameras and
CUPS queues (local_devices.py), all at the same time, each with its own deadlines. What was
found comes back as findings (findings.py) in the registry's order of kinds: what a profile's
`[devices.<kind>]` table takes, ready for `kiosk provision configure`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devices import registry
from provisioning import local_devices, network_scan, probes, serial_scan
from provisioning.findings import Finding, settings_text

DEFAULT_TIMEOUT_S = 0.3


@dataclass(frozen=True)
class DiscoverOptions:
    ports: tuple[str, ...] = ()
    """Serial ports to ask besides the listed ones (a pty, socket://host:port)."""
    hosts: tuple[str, ...] = ()
    """Hosts to ask for a receipt printer (host or host:port)."""
    subnets: tuple[str, ...] = ()
    """Subnets whose every host is asked (CIDR)."""
    timeout_s: float = DEFAULT_TIMEOUT_S
    """Deadline of one reply, and of one TCP connect."""
    listed_ports: bool = True
    """Also the serial ports the system lists (False: only `ports`)."""
    printer_port: int = network_scan.RAW_PRINT_PORT
    """TCP port asked on hosts given without one, and on subnets."""
    cups_server: str | None = None
    """A CUPS server (host, or its socket's path) instead of this machine's."""
    boards: int = probes.BOARDS_TRIED
    """Lock-board addresses asked per protocol, from the first board's."""
    usb_backend: Any = None
    """A pyusb backend (None: libusb-1.0's)."""


def check(options: DiscoverOptions) -> list[network_scan.Target]:
    """The network targets; ValueError (one line) for a usage error, before anything is asked."""
    if options.timeout_s <= 0:
        raise ValueError("--timeout must be more than 0 s")
    return network_scan.targets(options.hosts, options.subnets, options.printer_port)


def discover(options: DiscoverOptions) -> list[Finding]:
    targets = check(options)
    ports = serial_scan.ports_to_probe(options.ports, listed=options.listed_ports)
    jobs: list[Callable[[], list[Finding]]] = [
        local_devices.pcsc_readers,
        lambda: serial_scan.scan_ports(ports, options.timeout_s, options.boards),
        lambda: network_scan.scan_hosts(targets, options.timeout_s),
        lambda: local_devices.usb_printers(options.usb_backend),
        local_devices.cameras,
        lambda: local_devices.cups_queues(options.cups_server),
    ]
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="discover") as pool:
        results = [pool.submit(job) for job in jobs]
        findings = [f for r in results for f in r.result()]
    if not targets:
        findings.append(Finding("printer", None, None, "network",
                                "no hosts or subnets given (--hosts, --subnet)"))
    return ordered(findings)


def ordered(findings: list[Finding]) -> list[Finding]:
    """Devices first, in the registry's order of kinds, then the notes."""
    rank = {name: i for i, name in enumerate(registry.KIND_NAMES)}
    return sorted(findings, key=lambda f: (not f.bindable,
                                           rank.get(f.kind or "", len(rank))))


def render(findings: list[Finding], console: Any) -> None:
    """The rich table, then one line saying what came of it."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="kiosk provision discover", show_lines=False)
    for column in ("kind", "where", "what answered", "suggested adapter and settings"):
        table.add_column(column, overflow="fold")
    for f in findings:
        style = None if f.bindable else "dim"
        table.add_row(*(Text(cell) for cell in (
            f.kind or "-", f.where, f.detail, settings_text(f.settings) if f.bindable else "-")),
            style=style)
    console.print(table)
    devices = [f for f in findings if f.bindable]
    if devices:
        console.print(f"{len(devices)} device{'s' if len(devices) > 1 else ''} found. Bind them "
                      "with: kiosk provision configure --bind-discovered FILE (from --json)")
    else:
        console.print("Nothing found: check cables and power, give serial ports with --ports "
                      "and printer hosts with --hosts or --subnet.")
