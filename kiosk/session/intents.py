"""The decorator every citizen intent wears (machine.py and the mixins of visit.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def intent(fn: Callable[..., None]) -> Callable[..., None]:
    """Under the session lock, counts as activity, publishes the result; the steps it started
    run once the lock is released."""

    def wrapper(self: Any, *args: object) -> None:
        with self._lock:
            self._activity()
            fn(self, *args)
            self._publish()
        self._launch_steps()

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper
