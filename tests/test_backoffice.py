"""Reference back office over real loopback HTTP: dedupe, validation, auth, limits."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from backoffice.connections import MAX_BODY_BYTES
from backoffice.server import DB_FILE
from tests.contract import check_server_against_contract

pytestmark = pytest.mark.realstack

ID_NUMBER = "110101199003077777"


def submission(tracking_no: str = "T-1", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tracking_no": tracking_no,
        "service_id": "coffee-shop-licence",
        "terminal_id": "kiosk-07",
        "citizen": {"id_number": ID_NUMBER, "name": "Zhang San"},
        "form": {"shop_name": "Bean There"},
        "submitted_at": 1_700_000_000.5,
    }
    doc.update(changes)
    return doc


def envelope(key: str, doc: Any, kind: str = "application.submit") -> dict[str, Any]:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return {
        "idempotency_key": key,
        "kind": kind,
        "created_at": 1.0,
        "payload_b64": base64.b64encode(raw).decode(),
    }


def post(bo: RunningBackOffice, *envs: dict[str, Any], **kw: Any) -> requests.Response:
    kw.setdefault("headers", bo.headers)
    return requests.post(bo.url + "/v1/envelopes", json={"envelopes": list(envs)}, timeout=5,
                         **kw)


def statuses(resp: requests.Response) -> list[tuple[str, str]]:
    assert resp.status_code == 200, resp.text
    return [(r["idempotency_key"], r["status"]) for r in resp.json()["results"]]


@pytest.fixture
def bo(tmp_path: Path) -> Iterator[RunningBackOffice]:
    running = start_in_thread("127.0.0.1", 0, tmp_path)
    yield running
    running.stop()


def test_duplicate_delivery_creates_one_application(bo: RunningBackOffice) -> None:
    batch = [envelope("k1", submission("T-1")), envelope("k2", submission("T-2"))]
    assert statuses(post(bo, *batch)) == [("k1", "accepted"), ("k2", "accepted")]
    assert statuses(post(bo, *batch)) == [("k1", "duplicate"), ("k2", "duplicate")]
    assert bo.store.counts() == {"applications": 2, "envelopes": 2, "events": 0}


def test_concurrent_duplicate_posts_create_one_application(bo: RunningBackOffice) -> None:
    n = 12
    barrier = threading.Barrier(n)
    answers: list[str] = []

    def send() -> None:
        barrier.wait()
        answers.extend(s for _, s in statuses(post(bo, envelope("same", submission()))))

    threads = [threading.Thread(target=send) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(answers) == ["accepted"] + ["duplicate"] * (n - 1)
    assert bo.store.counts()["applications"] == 1


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (submission(tracking_no=""), "tracking_no"),
        ({k: v for k, v in submission().items() if k != "service_id"}, "service_id"),
        (submission(terminal_id=7), "terminal_id"),
        (submission(citizen="Zhang San"), "citizen"),
        (submission(citizen={"name": "Zhang San"}), "citizen.id_number"),
        (submission(citizen={"id_number": ID_NUMBER}), "citizen.name"),
        (submission(form=["a"]), "form"),
        (submission(submitted_at="yesterday"), "submitted_at"),
        (submission(submitted_at=True), "submitted_at"),
    ],
)
def test_bad_application_is_rejected_with_detail_naming_the_field(
    bo: RunningBackOffice, doc: dict[str, Any], field: str
) -> None:
    (result,) = post(bo, envelope("k", doc)).json()["results"]
    assert result["status"] == "rejected"
    assert f"'{field}'" in result["detail"]
    assert bo.store.counts() == {"applications": 0, "envelopes": 0, "events": 0}


@pytest.mark.parametrize("raw", [b"not json", b"\xff\xfe", b"[1, 2]"])
def test_payload_that_is_not_a_json_object_is_rejected(bo: RunningBackOffice, raw: bytes) -> None:
    (result,) = post(bo, envelope("k", raw, kind="staff.call")).json()["results"]
    assert result["status"] == "rejected"
    assert "JSON" in result["detail"]


def test_tracking_no_reused_under_another_key_is_rejected(bo: RunningBackOffice) -> None:
    assert statuses(post(bo, envelope("k1", submission("T-9")))) == [("k1", "accepted")]
    (result,) = post(bo, envelope("k2", submission("T-9"))).json()["results"]
    assert result["status"] == "rejected"
    assert "T-9" in result["detail"]
    # Rolled back as a whole: the rejected key is not remembered as received.
    assert bo.store.counts() == {"applications": 1, "envelopes": 1, "events": 0}


def test_no_name_or_id_number_is_stored_in_clear_and_files_are_private(
    bo: RunningBackOffice, tmp_path: Path
) -> None:
    post(bo, envelope("k1", submission("T-1")))
    digest = bo.secrets.citizen_hash(ID_NUMBER)
    assert digest != hashlib.sha256(ID_NUMBER.encode()).hexdigest()  # keyed, not plain
    found = requests.get(bo.url + "/v1/applications", params={"citizen_hash": digest},
                         timeout=5, headers=bo.headers)
    assert [a["tracking_no"] for a in found.json()["applications"]] == ["T-1"]
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        apps = repr(db.execute("SELECT * FROM applications").fetchall())
    assert digest in apps
    bo.stop()
    for path in tmp_path.iterdir():  # every file of the back office, WAL and all
        data = path.read_bytes()
        for clear in (ID_NUMBER, "Zhang San", "Bean There"):
            assert clear.encode() not in data, (path.name, clear)
        assert path.stat().st_mode & 0o077 == 0, path.name
    assert tmp_path.stat().st_mode & 0o077 == 0
    again = start_in_thread("127.0.0.1", 0, tmp_path)  # and the store still reads back
    try:
        assert again.store.assignee("T-1") == ID_NUMBER
    finally:
        again.stop()


def test_application_lookup_by_tracking_no_and_unknown_is_404(bo: RunningBackOffice) -> None:
    post(bo, envelope("k1", submission("T/7 x")))
    app = requests.get(bo.url + "/v1/applications/T%2F7%20x", timeout=5, headers=bo.headers).json()
    assert (app["tracking_no"], app["status"], app["terminal_id"]) == ("T/7 x", "received",
                                                                       "kiosk-07")
    assert requests.get(bo.url + "/v1/applications/nope", timeout=5,
                        headers=bo.headers).status_code == 404
    assert requests.get(bo.url + "/v1/applications", timeout=5,
                        headers=bo.headers).status_code == 400


def test_other_kinds_are_stored_as_events_once(bo: RunningBackOffice) -> None:
    event = envelope("e1", {"terminal_id": "kiosk-07", "locker": 3}, kind="locker.collected")
    assert statuses(post(bo, event, event)) == [("e1", "accepted"), ("e1", "duplicate")]
    assert requests.get(bo.url + "/v1/stats", timeout=5, headers=bo.headers).json() == {
        "applications": 0, "envelopes": 1, "events": 1,
    }


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"envelopes": {}}', b"[]", b'{"envelopes": [{"kind": "x"}]}'],
)
def test_malformed_body_is_400_and_stores_nothing(bo: RunningBackOffice, body: bytes) -> None:
    resp = requests.post(bo.url + "/v1/envelopes", data=body, timeout=5, headers=bo.headers)
    assert resp.status_code == 400
    assert "error" in resp.json()
    assert bo.store.counts()["envelopes"] == 0


def test_invalid_base64_rejects_only_that_envelope(bo: RunningBackOffice) -> None:
    broken = envelope("bad", submission("T-1")) | {"payload_b64": "***not base64***"}
    resp = post(bo, broken, envelope("good", submission("T-2")))
    assert statuses(resp) == [("bad", "rejected"), ("good", "accepted")]
    assert "base64" in resp.json()["results"][0]["detail"]


def test_oversized_body_is_413_without_reading_it(bo: RunningBackOffice) -> None:
    with socket.create_connection(("127.0.0.1", bo.port), timeout=5) as s:
        s.sendall(
            b"POST /v1/envelopes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {bo.token}\r\n".encode()
            + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")


def test_bearer_token_enforced(tmp_path: Path) -> None:
    bo = start_in_thread("127.0.0.1", 0, tmp_path, token="s3cret")
    try:
        stats = bo.url + "/v1/stats"
        assert requests.get(stats, timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer guess"}
        assert requests.get(stats, headers=wrong, timeout=5).status_code == 401
        assert post(bo, envelope("k", submission()), headers={}).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert requests.get(stats, headers=right, timeout=5).status_code == 200
        assert statuses(post(bo, envelope("k", submission()), headers=right)) == [
            ("k", "accepted")
        ]
        assert bo.store.counts()["envelopes"] == 1
        assert not (tmp_path / "terminal.token").exists()  # the given token, no other
    finally:
        bo.stop()


@pytest.mark.parametrize("path", ["/v1/applications?citizen_hash=ab", "/v1/applications/T-1",
                                  "/v1/applications/T-1/assignee", "/v1/stats",
                                  "/v1/lockers/K/pickup-codes",
                                  "/v1/pickup-notices?application_no=A"])
def test_a_back_office_started_without_a_token_answers_queries_only_to_terminals(
        bo: RunningBackOffice, path: str) -> None:
    post(bo, envelope("k1", submission("T-1")))
    assert requests.get(bo.url + path, timeout=5).status_code == 401
    assert requests.get(bo.url + path, timeout=5, headers=bo.headers).status_code != 401
    token = (bo.secrets.token_file or Path("/")).read_text().strip()
    assert token == bo.token and len(token) >= 40  # made at first start, kept 0600
    assert (bo.secrets.token_file or Path("/")).stat().st_mode & 0o077 == 0
    # Open to anyone: the health check, the QR key, checking a certificate.
    for public in ("/v1/health", "/v1/qr-public-key", "/v1/verify/HP0?code=x"):
        assert requests.get(bo.url + public, timeout=5).status_code == 200


def test_restart_on_same_data_dir_remembers_keys_and_cuts_kept_alive_connections(
    tmp_path: Path,
) -> None:
    first = start_in_thread("127.0.0.1", 0, tmp_path)
    session = requests.Session()  # keeps its connection open between requests
    session.headers.update(first.headers)
    resp = session.post(first.url + "/v1/envelopes",
                        json={"envelopes": [envelope("k1", submission())]}, timeout=5)
    assert statuses(resp) == [("k1", "accepted")]
    started = time.monotonic()
    first.stop()
    # The kept-alive handler thread must be cut, not waited for until its idle timeout.
    assert time.monotonic() - started < 2
    second = start_in_thread("127.0.0.1", first.port, tmp_path)
    try:
        resp = session.post(second.url + "/v1/envelopes",
                            json={"envelopes": [envelope("k1", submission())]}, timeout=5)
        assert statuses(resp) == [("k1", "duplicate")]
        assert second.store.counts()["applications"] == 1
    finally:
        second.stop()


def test_kiosk_and_back_office_hash_a_citizen_the_same_way(bo: RunningBackOffice) -> None:
    """The kiosk asks for "my applications" by this hash, under the key it was enrolled with:
    a lower-case check digit read from a card must find what was stored under the upper-case
    one."""
    from kiosk.records.citizen_key import CitizenKey

    enrolled = CitizenKey.from_file(bo.secrets.citizen_key_file)
    for number in ("11010519491231002X", "11010519491231002x", " 11010519491231002X "):
        assert bo.secrets.citizen_hash(number) == enrolled.citizen_hash(number) == \
            enrolled.citizen_hash("11010519491231002X")
    assert CitizenKey.random().citizen_hash(ID_NUMBER) != enrolled.citizen_hash(ID_NUMBER)


def test_the_server_keeps_to_its_openapi_contract(bo: RunningBackOffice) -> None:
    check_server_against_contract(bo)
