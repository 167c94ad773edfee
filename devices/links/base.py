"""What every link offers: open, close, write, and reads that end at a deadline.

A read never waits past its deadline: it returns the bytes that came (maybe none), and the
adapter decides what silence means. Not being able to open, or the other end going away, is a
LinkError, which adapters turn into a status (`offline`, `not_connected`).
"""

from __future__ import annotations

import time
from typing import Protocol


class LinkError(OSError):
    """The link cannot be opened, or broke (unplugged, connection reset)."""


class Link(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout_s: float) -> bytes:
        """Up to `size` bytes, returning as soon as all of them came or the time is up."""
        ...

    def discard_input(self) -> None:
        """Drop whatever arrived unasked (a late answer to an earlier request)."""
        ...


class DeadlineReads:
    """`read` built on one primitive: read what is there within a given time."""

    def _read_some(self, size: int, timeout_s: float) -> bytes:
        raise NotImplementedError

    def read(self, size: int, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        got = bytearray()
        while len(got) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            got += self._read_some(size - len(got), remaining)
        return bytes(got)
