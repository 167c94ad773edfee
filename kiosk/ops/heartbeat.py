"""The heartbeat: every `heartbeat_s` the terminal tells its back office how it is (device
statuses, outbox depth and age, versions, uptime, the configuration it runs) and hears of
configuration offered to it. A heartbeat that cannot be delivered is dropped (the next one
says the same, newer); submissions never depend on it. When a new configuration is staged and
nobody is at the screen, the terminal is restarted to run it (kiosk/ops/remote_config.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.ops.remote_config import ConfigKeeper

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, client: BackOfficeClient, collect: Callable[[], Mapping[str, Any]],
                 interval_s: float, *, keeper: ConfigKeeper | None = None,
                 idle: Callable[[], bool] = lambda: False,
                 restart: Callable[[], None] = lambda: None,
                 restart_wanted: Callable[[], bool] = lambda: False,
                 also: Callable[[], object] = lambda: None) -> None:
        """`collect()`: the heartbeat's body; `idle()`: nobody is at the screen (no citizen,
        no staff); `restart()`: stop the terminal so that its supervisor starts it again;
        `restart_wanted()`: a restart waits for nobody at the screen (a rolled-back trial);
        `also()`: what else is done on the heartbeat's timer (the audit log's hourly
        checkpoint, when a quiet night records nothing that would make one)."""
        self._also, self._restart_wanted = also, restart_wanted
        self._client, self._collect, self._interval_s = client, collect, interval_s
        self._keeper, self._idle, self._restart = keeper, idle, restart
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_answer: dict[str, object] | None = None
        self._restarting = False

    def beat(self) -> dict[str, object] | None:
        """One heartbeat, then what the answer asks for; the answer (None: undelivered)."""
        self._also()
        answer = self._client.heartbeat(self._collect())
        self.last_answer = answer
        if not self._restarting and self._restart_wanted() and self._idle():
            self._restarting = True
            log.warning("restarting onto the configuration rolled back to")
            self._restart()
            return answer
        if self._keeper is not None:
            if answer is not None:
                version = answer.get("config_version")
                self._keeper.offered(version if isinstance(version, int) else None)
            if not self._restarting and self._keeper.state()["staged"] is not None \
                    and self._idle() and self._keeper.take_staged() is not None:
                self._restarting = True
                log.warning("restarting to run the configuration the back office offered")
                self._restart()
        return answer

    def start(self) -> None:
        if self._interval_s <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # a broken beat must not end the heartbeat
                log.exception("heartbeat failed")
            self._stop.wait(self._interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
