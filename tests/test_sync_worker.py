"""Sync worker against real loopback peers: the reference back office and small faulty servers."""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backoffice import RunningBackOffice, start_in_thread
from offline_queue import (
    DeliveryOutcome,
    DeliveryResult,
    Envelope,
    HttpTransport,
    Outbox,
    SyncWorker,
)
from tests.waits import wait_until

pytestmark = pytest.mark.realstack

# An answer: (status, body), or (status, body, headers).
Responder = Callable[[dict[str, object]], tuple[int, bytes] | tuple[int, bytes, dict[str, str]]]


def application(i: int) -> bytes:
    return json.dumps({
        "tracking_no": f"T{i:05d}",
        "service_id": "household-proof",
        "terminal_id": "kiosk-01",
        "citizen": {"id_number": f"11010119900307{i:04d}", "name": "Test Citizen"},
        "form": {"copies": 1},
        "submitted_at": 1_700_000_000.0 + i,
    }).encode()


def enqueue_applications(outbox: Outbox, n: int) -> None:
    for i in range(n):
        outbox.enqueue("application.submit", application(i), f"key-{i}")




def fast_worker(outbox: Outbox, url: str, headers: dict[str, str] | None = None,
                **kw: float) -> SyncWorker:
    transport = HttpTransport(url, timeout_s=kw.pop("timeout_s", 2.0), headers=headers)
    opts: dict[str, float] = {"base_delay_s": 0.01, "max_delay_s": 0.05, "idle_poll_s": 0.02}
    opts.update(kw)
    return SyncWorker(outbox, transport, rng=random.Random(1), **opts)  # type: ignore[arg-type]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    ob = Outbox(tmp_path / "outbox.db")
    yield ob
    ob.close()


@pytest.fixture
def backoffice(tmp_path: Path) -> Iterator[RunningBackOffice]:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "backoffice")
    yield bo
    bo.stop()


@pytest.fixture
def stub() -> Iterator[Callable[[Responder], str]]:
    """A tiny HTTP peer whose answer to each POST is whatever the test says."""
    servers: list[ThreadingHTTPServer] = []

    def make(respond: Responder) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code, answer, *extra = respond(json.loads(body))
                self.send_response(code)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1/envelopes"

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def accept_all(body: dict[str, object]) -> tuple[int, bytes]:
    envs = body["envelopes"]
    assert isinstance(envs, list)
    results = [{"idempotency_key": e["idempotency_key"], "status": "accepted"} for e in envs]
    return 200, json.dumps({"results": results}).encode()


def assert_all_kept_for_retry(outbox: Outbox, worker: SyncWorker, n: int, detail: str) -> None:
    report = worker.run_once()
    assert (report.delivered, report.retried, report.parked) == (0, n, 0)
    assert worker.online is False
    assert worker.last_error is not None and detail in worker.last_error
    pending = outbox.list("pending")
    assert len(pending) == n
    assert all(e.attempts == 1 and detail in (e.last_error or "") for e in pending)


# -- backoff -------------------------------------------------------------------------------


class AlwaysRetryable:
    def deliver(self, batch: Sequence[Envelope]) -> dict[str, DeliveryResult]:
        return {e.idempotency_key: DeliveryResult(DeliveryOutcome.RETRYABLE, "x") for e in batch}


def test_backoff_delays_are_full_jitter_under_an_exponential_bound_capped_at_a_minute(
        tmp_path: Path) -> None:
    now = [1_000.0]
    outbox = Outbox(tmp_path / "o.db", clock=lambda: now[0])
    outbox.enqueue("k", b"p", "only")
    worker = SyncWorker(outbox, AlwaysRetryable(), base_delay_s=1.0, clock=lambda: now[0],
                        rng=random.Random(42))
    delays = []
    for _ in range(40):
        assert worker.run_once().retried == 1
        (env,) = outbox.list("pending")
        delays.append(env.next_attempt_at - now[0])
        now[0] = env.next_attempt_at
    for attempt, delay in enumerate(delays):
        assert 0.0 <= delay <= min(60.0, 2.0**attempt)  # the default cap is a minute
    late = delays[10:]
    assert max(late) > 45.0 and min(late) < 15.0  # spread over the whole range, not bunched
    assert len({round(d, 6) for d in late}) == len(late)  # terminals never retry in step
    assert outbox.list("pending")[0].attempts == 40


class AnswersWithRetryAfter:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def deliver(self, batch: Sequence[Envelope]) -> dict[str, DeliveryResult]:
        return {e.idempotency_key: DeliveryResult(DeliveryOutcome.RETRYABLE, "HTTP 503",
                                                  self.seconds) for e in batch}


def test_an_envelope_is_never_retried_sooner_than_the_servers_retry_after(
        tmp_path: Path) -> None:
    now = [1_000.0]
    outbox = Outbox(tmp_path / "o.db", clock=lambda: now[0])
    outbox.enqueue("k", b"p", "only")
    worker = SyncWorker(outbox, AnswersWithRetryAfter(120.0), base_delay_s=1.0,
                        clock=lambda: now[0], rng=random.Random(3))
    worker.run_once()
    (env,) = outbox.list("pending")
    assert env.next_attempt_at - now[0] == pytest.approx(120.0)
    assert env.server_answer == "HTTP 503"


@pytest.mark.parametrize(("header", "seconds"), [
    ("30", 30.0), ("Wed, 02 Dec 2026 00:01:00 GMT", 60.0), ("soon", None), ("", None),
    ("999999", 3600.0), ("Wed, 02 Dec 2026 00:00:00 GMT", 0.0)])
def test_retry_after_as_seconds_or_a_date_is_read_and_capped(header: str,
                                                            seconds: float | None) -> None:
    from offline_queue.transport import retry_after
    now = 1_796_169_600.0  # 2026-12-02 00:00:00 UTC
    assert retry_after(header, now=now) == seconds


def test_a_503_with_retry_after_from_a_real_server_holds_the_envelopes(
        outbox: Outbox, stub: Callable[[Responder], str]) -> None:
    url = stub(lambda body: (503, b'{"error": "busy"}', {"Retry-After": "45"}))
    enqueue_applications(outbox, 3)
    report = fast_worker(outbox, url).run_once()
    assert report.retried == 3
    for env in outbox.list("pending"):
        assert env.next_attempt_at - env.created_at >= 45.0 - 1.0
        assert env.server_answer == "HTTP 503"


# -- exactly once against the real back office -------------------------------------------


def test_worker_delivers_200_envelopes_exactly_once_to_real_back_office(
    outbox: Outbox, backoffice: RunningBackOffice
) -> None:
    worker = fast_worker(outbox, backoffice.url + "/v1/envelopes", backoffice.headers,
                         batch_size=25)
    assert worker.online is None
    worker.start()
    try:
        for i in range(200):
            outbox.enqueue("application.submit", application(i), f"key-{i}")
            worker.notify()
        assert worker.wait_until_drained(20)
    finally:
        assert worker.stop()
    assert backoffice.store.counts() == {"applications": 200, "envelopes": 200, "events": 0}
    assert outbox.stats().delivered == 200
    assert worker.online is True
    assert worker.last_success_at is not None


def test_back_office_restart_mid_drain_still_delivers_exactly_once(
    tmp_path: Path, outbox: Outbox
) -> None:
    data_dir = tmp_path / "backoffice"
    first = start_in_thread("127.0.0.1", 0, data_dir)
    enqueue_applications(outbox, 300)
    worker = fast_worker(outbox, first.url + "/v1/envelopes", first.headers, batch_size=5)
    worker.start()
    try:
        wait_until(lambda: outbox.stats().delivered >= 40)
        first.stop()
        wait_until(lambda: worker.online is False)
        assert outbox.stats().pending > 0
        second = start_in_thread("127.0.0.1", first.port, data_dir)
        try:
            assert worker.wait_until_drained(20)
            counts = second.store.counts()
        finally:
            second.stop()
    finally:
        assert worker.stop()
    assert counts == {"applications": 300, "envelopes": 300, "events": 0}
    assert outbox.stats().delivered == 300


def test_rejected_envelope_is_parked_not_dropped(
    outbox: Outbox, backoffice: RunningBackOffice
) -> None:
    bad = json.loads(application(1))
    del bad["citizen"]["id_number"]
    outbox.enqueue("application.submit", json.dumps(bad).encode(), "bad")
    outbox.enqueue("application.submit", application(2), "good")
    worker = fast_worker(outbox, backoffice.url + "/v1/envelopes", backoffice.headers)
    report = worker.run_once()
    assert (report.delivered, report.parked) == (1, 1)
    assert worker.online is True  # a rejection is an answer: the back office is reachable
    (parked,) = outbox.list("parked")
    assert parked.idempotency_key == "bad"
    assert "citizen.id_number" in (parked.last_error or "")
    assert worker.run_once().claimed == 0  # parked stays put until staff unpark it


def test_token_from_transport_headers_is_accepted(tmp_path: Path, outbox: Outbox) -> None:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo", token="s3cret")
    try:
        transport = HttpTransport(
            bo.url + "/v1/envelopes", headers={"Authorization": "Bearer s3cret"}
        )
        enqueue_applications(outbox, 3)
        assert SyncWorker(outbox, transport).run_once().delivered == 3
        assert bo.store.counts()["applications"] == 3
    finally:
        bo.stop()


# -- faulty peers ---------------------------------------------------------------------------


def test_server_answering_503_is_retried_and_envelopes_kept(
    outbox: Outbox, stub: Callable[[Responder], str]
) -> None:
    enqueue_applications(outbox, 4)
    worker = fast_worker(outbox, stub(lambda body: (503, b"maintenance")))
    assert_all_kept_for_retry(outbox, worker, 4, "HTTP 503")


@pytest.mark.parametrize(
    ("answer", "detail"),
    [(b"<html>proxy login</html>", "not JSON"), (b'{"ok": true}', "no 'results'")],
)
def test_server_answering_garbage_is_retried_not_dropped(
    outbox: Outbox, stub: Callable[[Responder], str], answer: bytes, detail: str
) -> None:
    enqueue_applications(outbox, 3)
    worker = fast_worker(outbox, stub(lambda body: (200, answer)))
    assert_all_kept_for_retry(outbox, worker, 3, detail)


def test_peer_speaking_non_http_is_retried_not_dropped(outbox: Outbox) -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def babble() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"\x00\xffSSH-2.0-not-http\r\n\r\n")

    threading.Thread(target=babble, daemon=True).start()
    enqueue_applications(outbox, 2)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/envelopes"
    try:
        assert_all_kept_for_retry(outbox, fast_worker(outbox, url), 2, "connection error")
    finally:
        listener.close()


def test_hanging_server_times_out_and_envelopes_are_kept(outbox: Outbox) -> None:
    # The kernel completes the handshake on a listening socket nobody accepts from: the
    # request is sent and no answer ever comes.
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/envelopes"
    enqueue_applications(outbox, 2)
    try:
        worker = fast_worker(outbox, url, timeout_s=0.3)
        assert_all_kept_for_retry(outbox, worker, 2, "timeout")
    finally:
        listener.close()


def test_refused_connection_is_retried_and_drain_wait_times_out(outbox: Outbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]  # closed on exit: nothing listens there any more
    enqueue_applications(outbox, 2)
    worker = fast_worker(outbox, f"http://127.0.0.1:{port}/v1/envelopes")
    worker.start()
    try:
        assert worker.wait_until_drained(0.3) is False
    finally:
        assert worker.stop()
    assert worker.online is False
    assert "connection error" in (worker.last_error or "")
    assert outbox.stats().pending == 2


@pytest.mark.parametrize("code", [400, 409, 422])
def test_4xx_answer_parks_the_batch_with_code_and_body_in_detail(
    outbox: Outbox, stub: Callable[[Responder], str], code: int
) -> None:
    enqueue_applications(outbox, 3)
    worker = fast_worker(outbox, stub(lambda body: (code, b'{"error": "schema v2 required"}')))
    report = worker.run_once()
    assert (report.delivered, report.retried, report.parked) == (0, 0, 3)
    parked = outbox.list("parked")
    assert len(parked) == 3
    assert all(f"HTTP {code}" in (e.last_error or "") for e in parked)
    assert all("schema v2 required" in (e.last_error or "") for e in parked)


@pytest.mark.parametrize("code", [401, 403, 404, 408, 425, 429, 500, 502])
def test_auth_endpoint_throttling_and_server_errors_are_retried_not_parked(
    outbox: Outbox, stub: Callable[[Responder], str], code: int
) -> None:
    enqueue_applications(outbox, 2)
    worker = fast_worker(outbox, stub(lambda body: (code, b"slow down")))
    assert_all_kept_for_retry(outbox, worker, 2, f"HTTP {code}")


def test_key_missing_from_200_answer_is_retried_not_acked(
    outbox: Outbox, stub: Callable[[Responder], str]
) -> None:
    def answer_first_only(body: dict[str, object]) -> tuple[int, bytes]:
        envs = body["envelopes"]
        assert isinstance(envs, list)
        first = {"idempotency_key": envs[0]["idempotency_key"], "status": "duplicate"}
        return 200, json.dumps({"results": [first]}).encode()

    enqueue_applications(outbox, 3)
    worker = fast_worker(outbox, stub(answer_first_only))
    report = worker.run_once()
    assert (report.delivered, report.retried) == (1, 2)
    assert worker.online is True
    assert {e.idempotency_key for e in outbox.list("pending")} == {"key-1", "key-2"}


def test_batch_too_large_for_server_is_split_not_parked(
    outbox: Outbox, stub: Callable[[Responder], str]
) -> None:
    def small_batches_only(body: dict[str, object]) -> tuple[int, bytes]:
        envs = body["envelopes"]
        assert isinstance(envs, list)
        return (413, b"too large") if len(envs) > 2 else accept_all(body)

    enqueue_applications(outbox, 7)
    report = fast_worker(outbox, stub(small_batches_only)).run_once()
    assert (report.delivered, report.parked) == (7, 0)


def test_transport_exception_does_not_kill_worker_thread(tmp_path: Path) -> None:
    # Time is the test's: every read of the clock moves it past any backoff, so each retried
    # envelope is due at the next claim and both failing calls see all three (with the wall
    # clock, jittered delays let a claim take only some of them, one run in four).
    ticks = iter(range(1_000_000))
    clock = lambda: 1_000.0 + 1_000.0 * next(ticks)  # noqa: E731
    outbox = Outbox(tmp_path / "o.db", clock=clock)

    class FailsTwice:
        calls = 0

        def deliver(self, batch: Sequence[Envelope]) -> dict[str, DeliveryResult]:
            self.calls += 1
            if self.calls <= 2:
                raise RuntimeError("bug in transport")
            ok = DeliveryResult(DeliveryOutcome.ACCEPTED)
            return {e.idempotency_key: ok for e in batch}

    enqueue_applications(outbox, 3)
    worker = SyncWorker(outbox, FailsTwice(), base_delay_s=0.01, max_delay_s=0.02,
                        idle_poll_s=0.02, clock=clock, rng=random.Random(7))
    worker.start()
    try:
        assert worker.wait_until_drained(10)
        assert worker.running
    finally:
        assert worker.stop()
    assert outbox.stats().delivered == 3
    assert [e.attempts for e in outbox.list("delivered")] == [2, 2, 2]
    outbox.close()
