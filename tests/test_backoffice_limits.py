"""The reference back office under hostile input and load, over real loopback sockets:
malformed, deeply nested and oversized bodies and keys get a 4xx (never a 500, which a
terminal would retry for ever); stalled and trickling clients hold a bounded pool of workers
and are cut at the deadline; past what may wait, a connection is told 503 at once."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from backoffice.connections import Limits
from backoffice.store import MAX_BATCH, MAX_KEY

pytestmark = pytest.mark.realstack


@pytest.fixture
def bo(tmp_path: Path) -> Iterator[RunningBackOffice]:
    running = start_in_thread("127.0.0.1", 0, tmp_path,
                              limits=Limits(workers=4, waiting=8, idle_s=0.5, read_s=1.5))
    yield running
    running.stop()


def post_raw(bo: RunningBackOffice, body: bytes) -> requests.Response:
    return requests.post(bo.url + "/v1/envelopes", data=body, headers=bo.headers, timeout=30)


def envelope(key: str, payload: bytes, kind: str = "application.submit") -> dict[str, Any]:
    return {"idempotency_key": key, "kind": kind,
            "payload_b64": base64.b64encode(payload).decode()}


@pytest.mark.parametrize("depth", [40, 100_000])
def test_a_deeply_nested_body_is_a_400_not_a_500(bo: RunningBackOffice, depth: int) -> None:
    answer = post_raw(bo, b'{"envelopes": ' + b"[" * depth + b"]" * depth + b"}")
    assert answer.status_code == 400
    assert "nested deeper" in answer.json()["error"]


def test_a_deeply_nested_payload_is_rejected_alone(bo: RunningBackOffice) -> None:
    nested = b'{"form": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = post_raw(bo, json.dumps({"envelopes": [
        envelope("deep", nested), envelope("event", b'{"terminal_id": "K"}', "staff.alert")]
    }).encode())
    assert answer.status_code == 200
    (deep, event) = answer.json()["results"]
    assert deep["status"] == "rejected" and "nested deeper" in deep["detail"]
    assert event["status"] == "accepted"


@pytest.mark.parametrize("key", ["", "k" * (MAX_KEY + 1), "k" * 1_000_000])
def test_an_empty_or_oversized_idempotency_key_is_a_400(bo: RunningBackOffice, key: str) -> None:
    answer = post_raw(bo, json.dumps({"envelopes": [envelope(key, b"{}")]}).encode())
    assert answer.status_code == 400
    assert "idempotency_key" in answer.json()["error"]
    assert len(answer.content) < 500  # the key is not echoed back
    assert bo.store.counts()["envelopes"] == 0


def test_too_many_envelopes_in_one_batch_is_a_400(bo: RunningBackOffice) -> None:
    batch = [envelope(f"k{i}", b"{}", "staff.call") for i in range(MAX_BATCH + 1)]
    answer = post_raw(bo, json.dumps({"envelopes": batch}).encode())
    assert answer.status_code == 400 and f"at most {MAX_BATCH}" in answer.json()["error"]


@pytest.mark.parametrize("body", [b"\xff\xfe not utf-8", b"", b"null", b'{"envelopes": null}',
                                  b'{"envelopes": [1, 2]}'])
def test_malformed_bodies_are_400(bo: RunningBackOffice, body: bytes) -> None:
    assert post_raw(bo, body).status_code == 400


def stalled(bo: RunningBackOffice, n: int) -> list[socket.socket]:
    """Clients that start a request and never finish it."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", bo.port), timeout=5)
        s.sendall(b"POST /v1/envelopes HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
        socks.append(s)
    return socks


def test_a_thousand_stalled_uploads_hold_a_bounded_pool_and_the_rest_are_told_busy(
        tmp_path: Path) -> None:
    limits = Limits(workers=4, waiting=8, idle_s=60, read_s=60)  # nothing is cut meanwhile
    bo = start_in_thread("127.0.0.1", 0, tmp_path, limits=limits)
    before = threading.active_count()
    held = stalled(bo, limits.workers + limits.waiting)
    try:
        rest = stalled(bo, 1000 - len(held))
        try:
            for s in rest:  # past workers + waiting: 503 with Retry-After, and closed
                s.settimeout(10)
                head = s.recv(200)
                assert head.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in head
            assert threading.active_count() <= before + limits.workers
        finally:
            for s in rest:
                s.close()
        for s in held:
            s.close()  # the stalled clients go: their workers are free again
        deadline = time.monotonic() + 30
        while True:  # a terminal tries again, as it does after a 503
            answer = requests.get(bo.url + "/v1/stats", headers=bo.headers, timeout=10)
            if answer.status_code == 200:
                break
            assert answer.status_code == 503 and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        for s in held:
            s.close()
        bo.stop()
    assert threading.active_count() <= before


def test_a_body_trickled_in_is_cut_at_the_deadline(bo: RunningBackOffice) -> None:
    with socket.create_connection(("127.0.0.1", bo.port), timeout=10) as s:
        s.sendall(b"POST /v1/envelopes HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                  + f"Authorization: Bearer {bo.token}\r\n\r\n".encode())
        started = time.monotonic()
        answer = b""
        try:
            for _ in range(100):  # a byte every 0.2 s would take 200 s
                s.sendall(b" ")
                time.sleep(0.2)
        except OSError:
            pass  # cut
        s.settimeout(5)
        try:
            answer = s.recv(200)
        except OSError:
            answer = b""
        took = time.monotonic() - started
    assert took < 10  # cut near read_s (1.5 s), not after 200 s
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_a_header_trickled_in_is_cut_at_the_deadline(bo: RunningBackOffice) -> None:
    with socket.create_connection(("127.0.0.1", bo.port), timeout=10) as s:
        s.sendall(b"GET /v1/stats HTTP/1.1\r\n")
        started = time.monotonic()
        try:
            for i in range(100):  # a header line every 0.3 s: each one inside idle_s
                s.sendall(f"X-Slow-{i}: 1\r\n".encode())
                time.sleep(0.3)
        except OSError:
            pass
        s.settimeout(5)
        try:
            rest = s.recv(200)
        except OSError:
            rest = b""
        assert rest == b""  # closed without an answer
        assert time.monotonic() - started < 10
