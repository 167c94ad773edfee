"""The reference back office on a real engine: the same contract on SQLite and on a private
PostgreSQL server (Debian's package, started for the session), and several back-office
processes against one PostgreSQL database taking the same envelopes, certificates and
locker loadings at once without a duplicate."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from offline_queue import HttpTransport, Outbox, SyncWorker
from tests.contract import check_server_against_contract

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent


def application(i: int, terminal: str = "SH-PD-0001") -> dict[str, Any]:
    return {"tracking_no": f"{terminal}-20261202-{i:08X}", "service_id": "household_proof",
            "terminal_id": terminal, "form": {}, "submitted_at": 1_796_169_600.0 + i,
            "citizen": {"id_number": f"1101011980071{i % 10000:04d}0", "name": "王芳"}}


def envelope(key: str, doc: dict[str, Any], kind: str = "application.submit") -> dict[str, Any]:
    return {"idempotency_key": key, "kind": kind,
            "payload_b64": base64.b64encode(json.dumps(doc).encode()).decode()}


@pytest.fixture
def bo(backoffice_on_each_engine: RunningBackOffice) -> RunningBackOffice:
    return backoffice_on_each_engine


def test_the_contract_holds_on_both_engines(bo: RunningBackOffice) -> None:
    check_server_against_contract(bo)


def test_concurrent_deliveries_of_the_same_envelopes_store_each_once(
        bo: RunningBackOffice) -> None:
    batch = {"envelopes": [envelope(f"k-{i}", application(i)) for i in range(40)]}
    answers: list[list[str]] = []

    def deliver() -> None:
        r = requests.post(bo.url + "/v1/envelopes", json=batch, headers=bo.headers, timeout=60)
        answers.append([x["status"] for x in r.json()["results"]])

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 6
    for i in range(40):  # each envelope accepted by exactly one delivery
        assert sorted(a[i] for a in answers) == ["accepted"] + ["duplicate"] * 5
    assert bo.store.counts() == {"applications": 40, "envelopes": 40, "events": 0}


def test_a_restart_on_the_same_database_remembers_everything(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue("pg_url")
    first = start_in_thread("127.0.0.1", 0, tmp_path / "bo", database=url)
    try:
        requests.post(first.url + "/v1/envelopes", headers=first.headers, timeout=10,
                      json={"envelopes": [envelope("k-1", application(1))]})
    finally:
        first.stop()
    second = start_in_thread("127.0.0.1", 0, tmp_path / "bo", database=url)
    try:
        again = requests.post(second.url + "/v1/envelopes", headers=second.headers,
                              timeout=10, json={"envelopes": [envelope("k-1", application(1))]})
        assert again.json()["results"][0]["status"] == "duplicate"
        assert second.store.assignee(application(1)["tracking_no"]) == \
            application(1)["citizen"]["id_number"]
    finally:
        second.stop()
    import psycopg

    with psycopg.connect(url) as conn:  # what the database holds: no name, no ID number
        for table in ("envelopes", "applications", "events", "certificates", "residents",
                      "pickups"):
            dump = repr(conn.execute(f"SELECT * FROM {table}").fetchall())
            assert application(1)["citizen"]["id_number"] not in dump, table
            assert "王芳" not in dump, table
    # Nothing of it in the data directory: only keys and the token are files there.
    assert sorted(p.name for p in (tmp_path / "bo").iterdir()) == [
        "certificate-key.bin", "citizen-hash.key", "operator.token", "qr-signing-key.pem",
        "store.key", "terminal.token"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_processes(pg_url: str, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Two `kiosk backoffice` processes on one PostgreSQL database and one data directory."""
    data = tmp_path / "bo"
    procs, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "backoffice", "--port", str(port),
                 "--data-dir", str(data), "--database", pg_url], cwd=ROOT,
                stderr=subprocess.PIPE, text=True))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                try:
                    if requests.get(url + "/v1/health", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, "a back office did not start"
                time.sleep(0.1)
        token = (data / "terminal.token").read_text().strip()
        yield urls, {"Authorization": f"Bearer {token}"}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            assert p.wait(timeout=30) == 0, p.stderr.read() if p.stderr else ""


def test_two_back_office_processes_on_one_database_take_everything_once(
        two_processes: tuple[list[str], dict[str, str]], tmp_path: Path) -> None:
    urls, headers = two_processes
    # Four terminals, each delivering its outbox to one process, then all of it again to
    # the other (as after a failover), at the same time.
    outboxes = []
    for t in range(4):
        outbox = Outbox(tmp_path / f"t{t}.db")
        for i in range(150):
            outbox.enqueue("application.submit",
                           json.dumps(application(i, f"SH-PD-{t:04d}")).encode(), f"{t}-{i}")
        outbox.enqueue("staff.alert", b'{"terminal_id": "x"}', f"{t}-alert")
        outboxes.append(outbox)

    def drain(outbox: Outbox, url: str) -> None:
        worker = SyncWorker(outbox, HttpTransport(url + "/v1/envelopes", headers=headers),
                            base_delay_s=0.01, max_delay_s=0.05, idle_poll_s=0.02)
        assert worker.drain(60)

    threads = [threading.Thread(target=drain, args=(ob, urls[t % 2]))
               for t, ob in enumerate(outboxes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for ob in outboxes:
        assert ob.stats().delivered == 151
    # Everything again, to the other process: all duplicates.
    for t, ob in enumerate(outboxes):
        batch = [e for e in ob.list("delivered", limit=1000)]
        body = {"envelopes": [{"idempotency_key": e.idempotency_key, "kind": e.kind,
                               "payload_b64": base64.b64encode(e.payload).decode()}
                              for e in batch]}
        again = requests.post(urls[(t + 1) % 2] + "/v1/envelopes", json=body, headers=headers,
                              timeout=60).json()["results"]
        assert {r["status"] for r in again} == {"duplicate"}
        ob.close()
    stats = requests.get(urls[0] + "/v1/stats", headers=headers, timeout=10).json()
    assert stats == {"applications": 600, "envelopes": 604, "events": 4}
    assert requests.get(urls[1] + "/v1/stats", headers=headers, timeout=10).json() == stats


def test_two_processes_issue_one_certificate_per_tracking_number_and_unique_serials(
        two_processes: tuple[list[str], dict[str, str]]) -> None:
    urls, headers = two_processes
    numbers = [f"1101011980071{i:04d}0" for i in range(12)]
    for n in numbers:
        requests.post(urls[0] + "/v1/residents", json={"id_number": n, "district": "东城区"},
                      headers=headers, timeout=10)
    issued: list[tuple[str, str]] = []
    lock = threading.Lock()

    def issue(i: int, url: str) -> None:
        r = requests.post(url + "/v1/certificates", headers=headers, timeout=30, json={
            "service_id": "household_proof", "tracking_no": f"T-{i % 12}",
            "citizen": {"id_number": numbers[i % 12], "name": "王芳"}})
        assert r.status_code == 200, r.text
        with lock:
            issued.append((f"T-{i % 12}", r.json()["serial"]))

    threads = [threading.Thread(target=issue, args=(i, urls[i % 2])) for i in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    by_tracking = {}
    for tracking, serial in issued:
        by_tracking.setdefault(tracking, set()).add(serial)
    assert len(issued) == 48
    assert all(len(s) == 1 for s in by_tracking.values())  # asked four times: one paper
    assert len({next(iter(s)) for s in by_tracking.values()}) == 12  # twelve serials


def test_two_processes_never_give_two_waiting_items_one_pickup_code(
        two_processes: tuple[list[str], dict[str, str]]) -> None:
    urls, headers = two_processes
    loads = [envelope(f"load-{i}", {"terminal_id": "SH-PD-0001", "application_no": f"A-{i}",
                                    "door": i % 48 + 1}, kind="locker.loaded")
             for i in range(200)]
    threads = [threading.Thread(target=lambda part, url: requests.post(
        url + "/v1/envelopes", json={"envelopes": part}, headers=headers, timeout=60),
        args=(loads[i::4], urls[i % 2])) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = requests.get(urls[1] + "/v1/lockers/SH-PD-0001/pickup-codes", headers=headers,
                         timeout=10).json()["pickup_codes"]
    assert len(codes) == 200
    assert len({c["pickup_code"] for c in codes}) == 200


def test_a_rejected_envelope_in_a_batch_leaves_no_trace_and_the_rest_stand(
        bo: RunningBackOffice) -> None:
    first, again = application(1), application(1)  # the same tracking number, another key
    batch = [envelope("k-a", first), envelope("k-b", again), envelope("k-c", application(2))]
    answer = requests.post(bo.url + "/v1/envelopes", json={"envelopes": batch},
                           headers=bo.headers, timeout=10).json()["results"]
    assert [r["status"] for r in answer] == ["accepted", "rejected", "accepted"]
    assert bo.store.counts() == {"applications": 2, "envelopes": 2, "events": 0}
    fixed = envelope("k-b", application(3))  # the rejected key was never remembered
    answer = requests.post(bo.url + "/v1/envelopes", json={"envelopes": [fixed]},
                           headers=bo.headers, timeout=10).json()["results"]
    assert answer[0]["status"] == "accepted"
