"""Serial ports: the ones the system lists (pyserial) and the ones the technician names, each
asked in every known protocol at its line speeds until one answers correctly.

Order matters on a port nobody knows. The printer is asked first, at all its speeds, because a
printer keeps what it does not understand and prints it on the next receipt: a SAM or board
frame sent to it before it was recognised would come out in front of a citizen (ESC @ after
DLE EOT clears what a wrong speed left). Then the SAM reader, then both lock-board
protocols, door queries only (probes.py). A port is claimed by the first protocol that
answers; the ports are asked at the same time, each by a thread of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devices.config import AdapterConfig
from devices.id_reader.sam.config import SamSerialConfig
from devices.links import Link, LinkError, SerialLink
from devices.locker.rs485.config import Rs485_8a80Config, Rs485KerongConfig
from devices.printer.escpos.config import EscposSerialConfig
from provisioning import probes
from provisioning.findings import Finding, found, note

PORTS_AT_ONCE = 8
ESCPOS_SPEEDS = (9600, 38400, 115200)  # besides its default: printers are set to any of them
BY_ID = Path("/dev/serial/by-id")  # udev's names that survive a replug into another socket
Ask = Callable[[Link, float], "probes.Answer | None"]


def _default_baud(config: type[AdapterConfig]) -> int:
    return int(config.model_fields["baudrate"].default)


def plan(boards: int = probes.BOARDS_TRIED) -> list[tuple[str, int, Ask]]:
    """(adapter, line speed, probe) in the order they are tried on one port."""
    escpos = _default_baud(EscposSerialConfig)
    speeds = (escpos, *(s for s in ESCPOS_SPEEDS if s != escpos))
    steps: list[tuple[str, int, Ask]] = [("escpos_serial", s, probes.escpos_status)
                                         for s in speeds]
    steps.append(("sam_serial", _default_baud(SamSerialConfig), probes.sam_status))
    for adapter, config in (("rs485_8a80", Rs485_8a80Config),
                            ("rs485_kerong", Rs485KerongConfig)):
        def ask(link: Link, timeout_s: float, adapter: str = adapter) -> probes.Answer | None:
            return probes.lock_boards(adapter, link, timeout_s, boards)
        steps.append((adapter, _default_baud(config), ask))
    return steps


def tried(boards: int = probes.BOARDS_TRIED) -> str:
    """What a silent port was asked, for the technician."""
    speeds: dict[str, list[str]] = {}
    for adapter, baud, _ in plan(boards):
        speeds.setdefault(adapter, []).append(str(baud))
    return ", ".join(f"{adapter} at {'/'.join(s)}" for adapter, s in speeds.items())


def probe_port(port: str, timeout_s: float, boards: int = probes.BOARDS_TRIED) -> Finding:
    """The first protocol that answers on `port`, or a note saying why none did."""
    garbled: list[str] = []
    for adapter, baud, ask in plan(boards):
        link = SerialLink(port, baudrate=baud)
        try:
            answer = ask(link, timeout_s)
        except LinkError as e:
            return note(None, port, f"cannot be used: {e} (held by a running kiosk? the "
                        "user needs the dialout group)")
        except probes.Garbled as e:
            garbled.append(f"{adapter} at {baud}: {e}")
            continue
        finally:
            link.close()
        if answer is not None:
            settings = {"adapter": answer.adapter, "port": stable_name(port), "baudrate": baud,
                        **answer.settings}
            return found(answer.kind, settings, port, f"{answer.detail}, at {baud} baud")
    if garbled:
        return note(None, port, "answers, but in no protocol known here (another device, or "
                    f"a line speed not tried): {garbled[0]}")
    return note(None, port, f"no answer (tried {tried(boards)})")


def stable_name(port: str) -> str:
    """The port's /dev/serial/by-id name when udev gave it one (/dev/ttyUSB0 and 1 swap when
    the adapters are plugged in the other way round), else the port as given."""
    if not port.startswith("/dev/") or not BY_ID.is_dir():
        return port
    real = os.path.realpath(port)
    for link in sorted(BY_ID.iterdir()):
        if os.path.realpath(link) == real:
            return str(link)
    return port


def listed_ports() -> list[str]:
    """The serial ports the system knows (pyserial's listing)."""
    from serial.tools import list_ports

    return [p.device for p in list_ports.comports()]


def ports_to_probe(given: Iterable[str], *, listed: bool = True) -> list[str]:
    """The listed ports and the given ones, each once (a pty or a URL is taken as given)."""
    seen: set[str] = set()
    out: list[str] = []
    for port in [*(listed_ports() if listed else []), *given]:
        key = os.path.realpath(port) if port.startswith("/") else port
        if key not in seen:
            seen.add(key)
            out.append(port)
    return out


def scan_ports(ports: list[str], timeout_s: float,
               boards: int = probes.BOARDS_TRIED) -> list[Finding]:
    if not ports:
        return [note(None, "serial", "no serial ports listed or given")]
    with ThreadPoolExecutor(max_workers=min(PORTS_AT_ONCE, len(ports)),
                            thread_name_prefix="discover-serial") as pool:
        return list(pool.map(lambda p: probe_port(p, timeout_s, boards), ports))
