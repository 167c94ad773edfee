"""Pickup codes at the reference back office, over loopback HTTP: a terminal's locker.loaded
event issues one code (the same on redelivery), the citizen's notice carries it, the terminal
fetches its own items' codes, and locker.collected retires the code."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread

pytestmark = pytest.mark.realstack


@pytest.fixture
def bo(tmp_path: Path) -> Iterator[RunningBackOffice]:
    running = start_in_thread("127.0.0.1", 0, tmp_path)
    yield running
    running.stop()


def deliver(bo: RunningBackOffice, key: str, kind: str, body: dict[str, object]) -> str:
    payload = base64.b64encode(json.dumps(body).encode()).decode()
    answer = requests.post(bo.url + "/v1/envelopes", timeout=10, json={"envelopes": [
        {"idempotency_key": key, "kind": kind, "payload_b64": payload}]}, headers=bo.headers)
    status: str = answer.json()["results"][0]["status"]
    return status


def codes(bo: RunningBackOffice, terminal: str) -> list[dict[str, object]]:
    answer = requests.get(f"{bo.url}/v1/lockers/{terminal}/pickup-codes", timeout=10,
                          headers=bo.headers)
    found: list[dict[str, object]] = answer.json()["pickup_codes"]
    return found


def test_a_loaded_item_gets_one_pickup_code_that_collection_retires(
        bo: RunningBackOffice) -> None:
    loaded = {"terminal_id": "SH-PD-0001", "application_no": "APP-7", "door": 7}
    assert deliver(bo, "k1", "locker.loaded", loaded) == "accepted"
    (code,) = codes(bo, "SH-PD-0001")
    assert code["application_no"] == "APP-7" and str(code["pickup_code"]).isdigit()
    assert len(str(code["pickup_code"])) == 6 and codes(bo, "SH-PD-0002") == []
    notice = requests.get(bo.url + "/v1/pickup-notices", params={"application_no": "APP-7"},
                          timeout=10, headers=bo.headers).json()
    assert notice["pickup_code"] == code["pickup_code"] and notice["pickup_code"] in \
        notice["text"]
    assert deliver(bo, "k1", "locker.loaded", loaded) == "duplicate"  # redelivered: same code
    assert codes(bo, "SH-PD-0001") == [code]
    deliver(bo, "k2", "locker.collected", {"terminal_id": "SH-PD-0001",
                                           "application_no": "APP-7", "door": 7})
    assert codes(bo, "SH-PD-0001") == []


def test_no_notice_for_an_application_never_loaded(bo: RunningBackOffice) -> None:
    answer = requests.get(bo.url + "/v1/pickup-notices", params={"application_no": "APP-0"},
                          timeout=10, headers=bo.headers)
    assert answer.status_code == 404
