"""The locker's compartments as the terminal sees them: the profile's layout when its adapter
has one (RS-485 boards), else doors 1..N in columns of 8 (the simulator)."""

from __future__ import annotations

from devices.config import AdapterConfig
from devices.locker.rs485.config import Compartment, default_layout
from kiosk.config.profile import Profile

__all__ = ["Compartment", "default_layout", "layout_of", "pick_free", "profile_layout"]

SIZES = ("small", "medium", "large")


def layout_of(config: AdapterConfig) -> tuple[Compartment, ...]:
    layout = getattr(config, "layout", None)
    if callable(layout):
        found: tuple[Compartment, ...] = layout()
        return found
    return default_layout(int(getattr(config, "doors", 0)), board=0)


def profile_layout(profile: Profile) -> tuple[Compartment, ...]:
    lockers = profile.devices.configs("locker")
    return layout_of(lockers[0]) if lockers else ()


def pick_free(layout: tuple[Compartment, ...], occupied: set[int], size: str) -> int | None:
    """A free compartment the item fits in: the smallest size that fits, then the lowest
    number (so large compartments stay free for large items)."""
    fits = [c for c in layout if c.number not in occupied
            and SIZES.index(c.size) >= SIZES.index(size)]
    if not fits:
        return None
    return min(fits, key=lambda c: (SIZES.index(c.size), c.number)).number
