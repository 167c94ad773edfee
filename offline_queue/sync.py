"""Background delivery of the outbox: batches, exponential backoff with full jitter (capped
at a minute, so a terminal back online is heard from soon), the server's Retry-After
honoured, parking."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from offline_queue.outbox import Outbox
from offline_queue.transport import DeliveryOutcome, DeliveryResult, Transport

log = logging.getLogger(__name__)

_MAX_EXPONENT = 60  # 2**attempts beyond this only risks float overflow; the cap applies anyway


@dataclass(frozen=True)
class SyncReport:
    delivered: int = 0
    retried: int = 0
    parked: int = 0

    @property
    def claimed(self) -> int:
        return self.delivered + self.retried + self.parked


class SyncWorker:
    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        *,
        batch_size: int = 50,
        lease_s: float = 60,
        base_delay_s: float = 1.0,
        max_delay_s: float = 60.0,
        idle_poll_s: float = 2.0,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.idle_poll_s = idle_poll_s
        self._clock = clock
        self._rng = rng or random.Random()
        self.online: bool | None = None
        self.last_error: str | None = None
        self.last_success_at: float | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._offline_streak = 0
        self._asked_wait_s = 0.0  # the longest Retry-After of the last batch

    def backoff_delay(self, attempts: int) -> float:
        """Delay before the next try of an envelope that has already failed `attempts` times:
        anywhere from 0 to the exponential bound ("full jitter"), so terminals that went
        offline together do not come back in step."""
        raw = min(self.max_delay_s, self.base_delay_s * 2.0 ** min(attempts, _MAX_EXPONENT))
        return self._rng.uniform(0.0, raw)

    def _retry_delay(self, env_attempts: int, result: DeliveryResult) -> float:
        backoff = self.backoff_delay(env_attempts)
        if result.retry_after_s is None:
            return backoff
        return max(backoff, result.retry_after_s)  # never sooner than the server asked

    def run_once(self) -> SyncReport:
        """Claim one batch, deliver it, and record every outcome in the outbox."""
        batch = self.outbox.claim(self.batch_size, self.lease_s)
        if not batch:
            return SyncReport()
        try:
            results = self.transport.deliver(batch)
        except Exception as exc:
            # A transport bug must not lose envelopes or kill the thread: treat as "try later".
            log.exception("transport raised while delivering %d envelope(s)", len(batch))
            failure = DeliveryResult(DeliveryOutcome.RETRYABLE, f"transport raised {exc!r}")
            results = {e.idempotency_key: failure for e in batch}

        missing = DeliveryResult(DeliveryOutcome.RETRYABLE, "transport gave no result")
        done: dict[int, str] = {}
        retried = parked = 0
        errors: list[str] = []
        self._asked_wait_s = 0.0
        for env in batch:
            res = results.get(env.idempotency_key, missing)
            if res.outcome in (DeliveryOutcome.ACCEPTED, DeliveryOutcome.DUPLICATE):
                done[env.id] = f"{res.outcome.value}: {res.detail}" if res.detail \
                    else res.outcome.value
            elif res.outcome is DeliveryOutcome.PERMANENT:
                self.outbox.park(env.id, res.detail or "rejected")
                parked += 1
                errors.append(res.detail)
            else:
                self.outbox.retry_later(env.id, res.detail, self._retry_delay(env.attempts, res))
                self._asked_wait_s = max(self._asked_wait_s, res.retry_after_s or 0.0)
                retried += 1
                errors.append(res.detail)
        if done:
            self.outbox.ack(done)
            self.last_success_at = self._clock()

        # Any definite answer (even a rejection) proves the back office is reachable.
        self.online = retried < len(batch)
        self._offline_streak = 0 if self.online else self._offline_streak + 1
        self.last_error = errors[-1] if errors else None
        if errors:
            log.warning(
                "sync batch: %d delivered, %d retried, %d parked; last error: %s",
                len(done), retried, parked, errors[-1],
            )
        return SyncReport(delivered=len(done), retried=retried, parked=parked)

    # -- background thread -----------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("sync worker already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-sync", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Wake the worker now (call after an enqueue) instead of at the next idle poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop and join; False if the thread is still busy (e.g. stuck in a slow request)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_until_drained(self, timeout_s: float) -> bool:
        """Block until nothing is pending or in flight (parked does not count); False on timeout.

        It only watches: delivery is the worker thread's job, on its own retry schedule.
        """
        deadline = time.monotonic() + timeout_s
        self.notify()
        while True:
            stats = self.outbox.stats()
            if stats.pending + stats.in_flight == 0:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(0.05, remaining))

    def drain(self, time_limit_s: float, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Deliver everything pending from the calling thread (not with start()), trying what
        was backing off at once and then on its schedule, until nothing is pending or in
        flight (True) or the time limit is reached (False). For a terminal whose own process
        is not running (`kiosk queue drain`)."""
        deadline = time.monotonic() + time_limit_s
        self.outbox.due_now()
        while True:
            report = self.run_once()
            if not self.outbox.undelivered():
                return True
            if report.delivered or report.parked:
                continue  # the back office answers: go on at once
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            due = self.outbox.next_due_at()
            wait = self.idle_poll_s if due is None else max(0.0, due - self._clock())
            sleep(min(max(wait, self._asked_wait_s, 0.01), remaining))
            self._asked_wait_s = 0.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._asked_wait_s > 0:  # the server asked for quiet: not even notify() probes
                self._stop.wait(self._asked_wait_s)
                self._asked_wait_s = 0.0
                continue
            try:
                report = self.run_once()
            except Exception as exc:
                # E.g. disk full while acking: leases expire and the envelopes come back.
                log.exception("sync worker iteration failed")
                self.last_error = f"sync iteration failed: {exc!r}"
                report = None
            if report is not None and report.claimed and self.online:
                continue  # more may be due right now
            self._wake.wait(self._idle_wait(report))
            self._wake.clear()

    def _idle_wait(self, report: SyncReport | None) -> float:
        if report is None or not report.claimed or self.online is not False:
            return self.idle_poll_s
        # Offline: don't walk the rest of the backlog one timed-out batch after another; back
        # off as a whole. notify() still wakes us, so a new enqueue probes at once.
        return max(self.idle_poll_s, self.backoff_delay(self._offline_streak - 1))
