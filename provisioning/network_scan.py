"""Receipt printers on the network: the hosts and subnets the technician gives, each asked on
its raw print port (9100) for its DLE EOT status, many at once with short deadlines.

A host where nothing listens is not reported: a subnet is mostly such hosts. One that takes
the connection but gives no ESC/POS status is reported as a note (a printer with status
replies switched off, or some other service on that port). Only give the printers' own
network: whatever listens on 9100 gets the four status bytes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from devices.links import LinkError, TcpLink
from provisioning import probes
from provisioning.findings import Finding, found, note

RAW_PRINT_PORT = 9100
HOSTS_AT_ONCE = 64  # a /24 in four rounds of connect deadlines
MOST_HOSTS = 4096  # a /20; a larger scan is a mistake, not a shop floor


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    @property
    def where(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def targets(hosts: Iterable[str], subnets: Iterable[str],
            port: int = RAW_PRINT_PORT) -> list[Target]:
    """`hosts` (name, address, or either with :PORT) and every host address of `subnets`,
    each once, in the order given. ValueError (one line) for a bad one, or too many."""
    out: dict[Target, None] = {}
    for given in hosts:
        host, sep, tail = given.rpartition(":")
        bracketed = given.startswith("[") and host.endswith("]")
        if sep and tail.isdigit() and (bracketed or given.count(":") == 1):
            target = Target(host.strip("[]"), int(tail))
        else:  # a name, an IPv4 address, or an IPv6 one without a port ([addr]:port has one)
            target = Target(given.strip("[]"), port)
        if not target.host or not 0 < target.port < 65536:
            raise ValueError(f"--hosts {given!r}: not a host or host:port")
        out[target] = None
    for subnet in subnets:
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError as e:
            raise ValueError(f"--subnet {subnet!r}: {e}") from e
        if network.num_addresses > MOST_HOSTS:
            raise ValueError(f"--subnet {subnet}: {network.num_addresses} addresses; give at "
                             f"most {MOST_HOSTS} (a /20), the printers' own network")
        addresses = list(network.hosts()) or [network.network_address]
        for address in addresses:
            out[Target(str(address), port)] = None
    if len(out) > MOST_HOSTS:
        raise ValueError(f"{len(out)} hosts to ask; give at most {MOST_HOSTS}")
    return list(out)


def probe_host(target: Target, timeout_s: float) -> Finding | None:
    """The printer at `target`, a note for a listener that is no printer, None for nothing."""
    link = TcpLink(target.host, target.port, connect_timeout_s=timeout_s)
    try:
        try:
            link.open()
        except LinkError:
            return None  # nothing listens there: most of a subnet
        answer = probes.escpos_status(link, timeout_s, adapter="escpos_network")
    except probes.Garbled as e:
        return note("printer", target.where, f"takes connections, but is no ESC/POS printer: "
                    f"{e}")
    except LinkError as e:
        return note("printer", target.where, f"took the connection, then dropped it: {e}")
    finally:
        link.close()
    if answer is None:
        return note("printer", target.where, "takes connections, but gives no ESC/POS status "
                    "(status replies off, or not a receipt printer)")
    settings = {"adapter": "escpos_network", "host": target.host, "tcp_port": target.port}
    return found("printer", settings, target.where, answer.detail)


def scan_hosts(given: list[Target], timeout_s: float) -> list[Finding]:
    if not given:
        return []
    with ThreadPoolExecutor(max_workers=min(HOSTS_AT_ONCE, len(given)),
                            thread_name_prefix="discover-tcp") as pool:
        answers = list(pool.map(lambda t: probe_host(t, timeout_s), given))
    return [a for a in answers if a is not None]
