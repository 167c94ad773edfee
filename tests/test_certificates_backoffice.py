"""Certificates issued by the reference back office over loopback HTTP: a resident on the
register gets a household registration proof with a serial and a verification code that the
verify endpoint answers; asking again for the same application gives the same certificate
(never a second one); someone not on the register is not eligible, with the reason."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice import RunningBackOffice, start_in_thread
from backoffice.certificates import DB_FILE, KEY_FILE

pytestmark = pytest.mark.realstack
ZHANG = "310115198001010024"


@pytest.fixture
def bo(tmp_path: Path) -> Iterator[RunningBackOffice]:
    running = start_in_thread("127.0.0.1", 0, tmp_path)
    requests.post(running.url + "/v1/residents", timeout=10,
                  json={"id_number": ZHANG, "district": "浦东新区"},
                      headers=running.headers).raise_for_status()
    yield running
    running.stop()


def issue(bo: RunningBackOffice, tracking_no: str = "T-1", number: str = ZHANG,
          service: str = "household_proof") -> requests.Response:
    return requests.post(bo.url + "/v1/certificates", timeout=10, json={
        "service_id": service, "tracking_no": tracking_no,
        "citizen": {"id_number": number, "name": "张三"}}, headers=bo.headers)


def verify(bo: RunningBackOffice, serial: str, code: str) -> dict[str, Any]:
    answer = requests.get(f"{bo.url}/v1/verify/{serial}", params={"code": code}, timeout=10)
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def test_a_resident_gets_a_certificate_that_verifies(bo: RunningBackOffice) -> None:
    answer = issue(bo)
    assert answer.status_code == 200, answer.text
    cert = answer.json()
    assert cert["serial"].startswith("HP") and len(cert["verification_code"]) == 8
    assert (cert["title_zh"], cert["holder"], cert["district"]) == ("户籍证明", "张*", "浦东新区")
    assert cert["issuer"] == "上海市公安局浦东分局"
    checked = verify(bo, cert["serial"], cert["verification_code"].lower())
    assert checked["valid"] and checked["holder"] == "张*" and checked["title_zh"] == "户籍证明"


def test_asking_again_for_the_same_application_never_issues_twice(bo: RunningBackOffice) -> None:
    first, again = issue(bo).json(), issue(bo).json()
    assert again == first
    other = issue(bo, tracking_no="T-2", service="entry_exit_proof").json()
    assert other["serial"].startswith("EE") and other["serial"] != first["serial"]
    assert bo.server.certificates.count() == 2


def printed(bo: RunningBackOffice, serial: str) -> None:
    """The terminal's outbox delivers `certificate.printed` for the serial."""
    payload = base64.b64encode(json.dumps({"serial": serial, "terminal_id": "K1"}).encode())
    answer = requests.post(bo.url + "/v1/envelopes", timeout=10, json={"envelopes": [{
        "idempotency_key": f"printed-{serial}", "kind": "certificate.printed",
        "payload_b64": payload.decode()}]}, headers=bo.headers)
    assert answer.json()["results"][0]["status"] == "accepted", answer.text


def test_a_certificate_that_never_printed_is_given_again_on_the_next_visit_not_twice(
        bo: RunningBackOffice) -> None:
    first = issue(bo, tracking_no="visit-1").json()
    again = issue(bo, tracking_no="visit-2").json()  # the paper did not come out last time
    assert (again["serial"], again["tracking_no"]) == (first["serial"], "visit-1")
    printed(bo, first["serial"])
    later = issue(bo, tracking_no="visit-3").json()  # a new proof, a new serial
    assert later["serial"] != first["serial"] and bo.server.certificates.count() == 2


def test_someone_not_on_the_register_is_not_eligible(bo: RunningBackOffice) -> None:
    answer = issue(bo, number="110101199003077777")
    assert answer.status_code == 422
    assert answer.json() == {"error": "not_eligible", "reason": "not_on_register",
                             "message": "no household registration on record for this ID number"}
    assert bo.server.certificates.count() == 0


def test_a_wrong_code_or_an_unknown_serial_does_not_verify(bo: RunningBackOffice) -> None:
    cert = issue(bo).json()
    assert verify(bo, cert["serial"], "AAAAAAAA") == {"valid": False}
    assert verify(bo, "HP2026999999", cert["verification_code"]) == {"valid": False}


def test_the_same_tracking_number_for_another_citizen_is_refused(bo: RunningBackOffice) -> None:
    requests.post(bo.url + "/v1/residents", timeout=10, headers=bo.headers,
                  json={"id_number": "310104195503150040", "district": "徐汇区"})
    assert issue(bo).status_code == 200
    answer = issue(bo, number="310104195503150040")
    assert answer.status_code == 400 and "another certificate" in answer.json()["error"]


@pytest.mark.parametrize(("body", "field"), [
    ({"tracking_no": "T", "citizen": {"id_number": ZHANG, "name": "张三"}}, "service_id"),
    ({"service_id": "household_proof", "citizen": {"id_number": ZHANG, "name": "张三"}},
     "tracking_no"),
    ({"service_id": "household_proof", "tracking_no": "T", "citizen": "x"},
     "citizen.id_number"),
    ({"service_id": "open_coffee_shop", "tracking_no": "T",
      "citizen": {"id_number": ZHANG, "name": "张三"}}, "issues no certificate"),
])
def test_a_malformed_request_is_a_400_naming_the_problem(bo: RunningBackOffice,
                                                         body: dict[str, Any],
                                                         field: str) -> None:
    answer = requests.post(bo.url + "/v1/certificates", json=body, timeout=10, headers=bo.headers)
    assert answer.status_code == 400 and field in answer.json()["error"]


def test_the_code_key_and_the_register_are_private_and_survive_a_restart(
        tmp_path: Path) -> None:
    first = start_in_thread("127.0.0.1", 0, tmp_path)
    try:
        requests.post(first.url + "/v1/residents", timeout=10,
                      json={"id_number": ZHANG, "district": "浦东新区"}, headers=first.headers)
        cert = issue(first).json()
    finally:
        first.stop()
    for name in (KEY_FILE, DB_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    again = start_in_thread("127.0.0.1", 0, tmp_path)
    try:
        assert verify(again, cert["serial"], cert["verification_code"])["valid"]
        assert issue(again).json() == cert
    finally:
        again.stop()
