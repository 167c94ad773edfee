"""What this terminal runs, for the heartbeat and the readiness report."""

from __future__ import annotations

import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "os": platform.platform(terse=True)}
    for name, package in (("kiosk", "selfservice-kiosk"), ("kivy", "kivy"),
                          ("pyscard", "pyscard"), ("python-escpos", "python-escpos")):
        try:
            found[name] = version(package)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
