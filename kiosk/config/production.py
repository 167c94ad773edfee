"""What a production start (`kiosk run`) refuses: a simulator, a virtual (vpcd) card reader,
TLS to the back office off or missing, a secret others can read, lockdown off. Each problem
is one line naming the key or file and what to do; `kiosk demo` and the tests never come
here."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from devices.registry import SIMULATOR
from kiosk.config.profile import Profile

VIRTUAL_READER = "Virtual PCD"  # vsmartcard's vpcd, as pcscd lists it


def production_problems(profile: Profile, secrets: Iterable[Path],
                        readers: Iterable[str] = ()) -> list[str]:
    """Everything that keeps this profile from running a real terminal; [] when nothing.
    `secrets`: the terminal's secret files (those that exist are checked); `readers`: the
    PC/SC readers pcscd lists now."""
    problems = []
    if profile.allow_simulators:
        problems.append("allow_simulators: true is for demo and test profiles; remove it")
    for kind, configs in profile.devices.fitted():
        for c in configs:
            if c.adapter == SIMULATOR:
                problems.append(f"devices.{kind}: the simulator cannot serve citizens; name "
                                "the real adapter (kiosk provision configure)")
            named = getattr(c, "reader", None)
            if c.adapter == "pcsc" and named and VIRTUAL_READER.lower() in named.lower():
                problems.append(f"devices.{kind}: reader {named!r} is a virtual card reader")
    pcsc_any = any(c.adapter == "pcsc" and not getattr(c, "reader", None)
                   for _, configs in profile.devices.fitted() for c in configs)
    virtual = [r for r in readers if VIRTUAL_READER.lower() in r.lower()]
    if virtual and pcsc_any:
        problems.append(f"pcscd lists a virtual card reader ({virtual[0]}) that a PC/SC "
                        "reader without `reader =` would use: remove vsmartcard's vpcd "
                        "(apt remove vsmartcard-vpcd) or name the real reader")
    office = profile.backoffice
    if not office.verify_tls:
        problems.append("backoffice.verify_tls: false lets anyone stand in for the back "
                        "office; remove it (or give ca_file for a private CA)")
    if office.url and not office.url.startswith("https://"):
        problems.append(f"backoffice.url: {office.url} is not https://; production talks to "
                        "its back office over TLS only")
    if office.ca_file and not Path(office.ca_file).is_file():
        problems.append(f"backoffice.ca_file: {office.ca_file} is not there")
    if not profile.kiosk.lockdown:
        problems.append("kiosk.lockdown: false leaves the desktop a tap away; set it true")
    for path in secrets:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue  # a missing secret is said where it is read
        if mode & 0o077:
            problems.append(f"{path}: mode {mode:04o} lets others read a secret; "
                            f"chmod 600 {path}")
    return problems


def pcsc_readers() -> list[str]:
    """The readers pcscd lists now ([] without pcscd or pyscard)."""
    try:
        from smartcard.System import readers

        return [str(r) for r in readers()]
    except Exception:  # no pcscd, no service: nothing virtual to refuse either
        return []
