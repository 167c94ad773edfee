"""Every delay and time limit of the kiosk, in one injectable object.

Tests build a `Timings` with the numbers they want and drive a `FakeClock`; nothing in the core
sleeps. Elder mode doubles the citizen-facing durations (UI.md: longer timeouts x2).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class Timings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    idle_before_countdown_s: float = Field(default=60.0, ge=0)
    """Seconds without a touch before the visible inactivity countdown starts."""
    countdown_s: float = Field(default=20.0, gt=0)
    """Length of the visible countdown; when it reaches zero the session ends and is wiped."""
    max_extensions: int = Field(default=10, ge=10)
    """How many times a citizen may press "I need more time" in one session (UI.md: >= 10)."""
    identify_wait_s: float = Field(default=45.0, gt=0)
    """How long to wait for a card or QR code before saying so and offering another way."""
    face_wait_s: float = Field(default=30.0, gt=0)
    """How long to wait for a usable face frame before saying so."""
    face_attempts: int = Field(default=3, ge=1, le=10)
    """How many faces the back office may find not matching the document before the terminal
    stops looking and asks the citizen to call staff."""
    door_reminder_s: float = Field(default=45.0, gt=0)
    """How long an open locker door may stay open before the screen reminds the citizen to
    close it."""
    door_close_wait_s: float = Field(default=120.0, gt=0)
    """How long an open locker door may stay open before staff are alerted."""
    door_watch_s: float = Field(default=30.0, gt=0)
    """How often doors left open (or a crash left unsettled) are looked at again."""
    goodbye_s: float = Field(default=8.0, ge=0)
    """How long the goodbye screen stays before the attract screen returns."""
    card_left_alert_s: float = Field(default=60.0, ge=0)
    """A card left in a reader is called out this long before staff are told too."""
    staff_idle_s: float = Field(default=120.0, gt=0)
    """A staff session on the terminal ends this long after staff last touched it."""
    heartbeat_s: float = Field(default=60.0, ge=0)
    """How often the terminal tells its back office how it is (device statuses, outbox depth
    and age, versions, uptime) and learns of configuration offered to it; 0: never."""
    config_healthy_within_s: float = Field(default=180.0, gt=0)
    """A configuration from the back office is kept only if the terminal comes up healthy
    with it (devices usable, back office reachable) within this long; else it is rolled back."""
    call_check_s: float = Field(default=5.0, gt=0)
    """How often, after a call for help while staff are on duty, the back office is asked
    whether a member of staff has taken it."""
    device_call_timeout_s: float = Field(default=3.0, gt=0)
    """Limit for one device call (card read, face frame, door sensors, status) before the device
    counts as hung. Each adapter declares how often its status is polled."""
    print_timeout_s: float = Field(default=30.0, gt=0)
    """Limit for printing one receipt before the citizen is told it did not print."""
    step_grace_s: float = Field(default=1.0, ge=0)
    """How much longer than its own deadline the session waits for a step (a print, a read, a
    query) before it gives up on it and tells the citizen."""
    backoffice_timeout_s: float = Field(default=8.0, gt=0)
    """Limit for one back-office question (application status, face verification);
    submissions go to the outbox."""
    outbox_poll_s: float = Field(default=2.0, gt=0)
    """How often the sync worker looks for due envelopes when nothing woke it."""
    ui_tick_s: float = Field(default=0.25, gt=0)
    """How often the UI asks the session to look at devices and time."""
    min_free_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    """Free space the data directory must have for a new session to start: below it the
    terminal is out of service ("storage full"), so that no citizen fills in a form that
    could not be kept. What was already accepted stays and is delivered."""
    delivered_retention_s: float = Field(default=30 * 86400, ge=0)
    """How long delivered envelopes stay in the outbox (for audit) before they are purged."""
    elder_factor: float = Field(default=2.0, ge=1)
    """Multiplier of citizen-facing durations in elder mode."""

    @classmethod
    def instant(cls) -> Timings:
        """No waiting anywhere except the inactivity limits: for headless runs and tests."""
        return cls(goodbye_s=0, outbox_poll_s=0.05, ui_tick_s=0.01)


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch, for records."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, start: float = 1000.0, wall_start: float = 1_800_000_000.0) -> None:
        self._t = start
        self._offset = wall_start - start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def wall(self) -> float:
        with self._lock:
            return self._t + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += seconds
