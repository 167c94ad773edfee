"""The far end of a serial line for wire peers: a pseudo-terminal pair.

The peer holds the master side; the adapter under test opens `port` (the slave's path) exactly
as it would open /dev/ttyUSB0, through pyserial, so the production adapter runs unchanged.
"""

from __future__ import annotations

import os
import select
import tty


class PtyEnd:
    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        self.port = os.ttyname(self._slave)
        self._closed = False

    def read(self, timeout_s: float) -> bytes:
        """What the adapter wrote, or b"" when nothing came within the time."""
        ready, _, _ = select.select([self._master], [], [], timeout_s)
        if not ready:
            return b""
        try:
            return os.read(self._master, 65536)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._master, view)
            view = view[written:]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._master)
            os.close(self._slave)
