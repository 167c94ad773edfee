"""The reference back office checked against its contract, docs/backoffice-openapi.json: every
documented path is served and every served path documented; a walk of real requests (an
application delivered, looked up, its certificate issued and verified, pickup codes asked
for, a visit rated badly and its follow-up closed, an audit checkpoint kept and listed, and
malformed ones) gets only documented statuses, each body valid against the schema documented
for it (jsonschema, OpenAPI 3.1 being JSON Schema 2020-12); what the contract says needs the
token answers 401 without it, and what it says is open does not."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import requests
from jsonschema import Draft202012Validator

from backoffice import RunningBackOffice, terminal_routes

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "docs" / "backoffice-openapi.json").read_text(encoding="utf-8"))
ID_NUMBER = "110101198007140027"


def _template(path: str) -> str:
    """The documented path a request's path falls under."""
    for documented in SPEC["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", documented) + "$"
        if re.match(pattern, path):
            return documented
    raise AssertionError(f"{path} is not in the contract")


def _walk(bo: RunningBackOffice) -> list[tuple[str, str, dict[str, Any]]]:
    hash_of = bo.secrets.citizen_hash(ID_NUMBER)
    operator = {"as": "operator"}
    issued = bo.store.terminals.issue_token("SH-PD-0001")["token"]
    spare = bo.store.terminals.issue_token("SH-PD-0001")["token"]
    application = {"tracking_no": "T-C1", "service_id": "household_proof",
                   "terminal_id": "SH-PD-0001", "form": {}, "submitted_at": 1.0,
                   "citizen": {"id_number": ID_NUMBER, "name": "王芳"}}
    envelope = {"idempotency_key": "contract-1", "kind": "application.submit",
                "payload_b64": base64.b64encode(json.dumps(application).encode()).decode()}
    rating = {"terminal_id": "SH-PD-0001", "at": 1.0, "visit_id": "visit-C1",
              "service_id": "household_proof", "level": 1, "reasons": ["device_failed"],
              "language": "zh", "elder": False}
    rated = {"idempotency_key": "contract-2", "kind": "visit.rating",
             "payload_b64": base64.b64encode(json.dumps(rating).encode()).decode()}
    help_call = {"terminal_id": "SH-PD-0001", "at": 1.0, "screen": "identify", "waited_s": 40}
    called = {"idempotency_key": "staff.call:visit-C1", "kind": "staff.call",
              "payload_b64": base64.b64encode(json.dumps(help_call).encode()).decode()}
    checkpoint = {"terminal_id": "SH-PD-0001", "seq": 500, "hash": "ab" * 32, "at": 1.0,
                  "signature": base64.b64encode(bytes(64)).decode(), "key_fingerprint": "cd" * 32}
    signed = {"idempotency_key": "audit.checkpoint:SH-PD-0001:500", "kind": "audit.checkpoint",
              "payload_b64": base64.b64encode(json.dumps(checkpoint).encode()).decode()}
    return [
        ("get", "/v1/health", {}),
        ("get", "/v1/qr-public-key", {}),
        ("post", "/v1/envelopes", {"json": {"envelopes": [envelope]}}),
        ("post", "/v1/envelopes", {"json": {"envelopes": [envelope]}}),  # a duplicate
        ("post", "/v1/envelopes", {"data": b"{not json"}),
        ("get", "/v1/envelopes", {}),
        ("get", "/v1/stats", {}),
        ("get", "/v1/applications", {"params": {"citizen_hash": hash_of}}),
        ("get", "/v1/applications", {}),
        ("get", "/v1/applications/T-C1", {}),
        ("get", "/v1/applications/T-none", {}),
        ("get", "/v1/applications/T-C1/assignee", {}),
        ("get", "/v1/applications/T-none/assignee", {}),
        ("post", "/v1/residents", {"json": {"id_number": ID_NUMBER, "district": "东城区"}}),
        ("post", "/v1/residents", {"json": {"id_number": 7}}),
        ("post", "/v1/certificates", {"json": {
            "service_id": "household_proof", "tracking_no": "T-C1",
            "citizen": {"id_number": ID_NUMBER, "name": "王芳"}}}),
        ("post", "/v1/certificates", {"json": {
            "service_id": "household_proof", "tracking_no": "T-C2",
            "citizen": {"id_number": "110101198001010019", "name": "李四"}}}),
        ("post", "/v1/certificates", {"json": {}}),
        ("get", "/v1/verify/HP0", {"params": {"code": "x"}}),
        ("post", "/v1/qr-tokens", {"json": {"id": ID_NUMBER, "name": "王芳"}}),
        ("post", "/v1/qr-tokens", {"json": {"name": 1}}),
        ("post", "/v1/photos-on-file", {"json": {"document_number": ID_NUMBER}}),
        ("post", "/v1/face-verifications", {"json": {"document_number": ID_NUMBER,
                                                      "live_frame_b64": "!"}}),
        ("get", "/v1/lockers/SH-PD-0001/pickup-codes", {}),
        ("get", "/v1/pickup-notices", {"params": {"application_no": "T-C1"}}),
        ("get", "/v1/pickup-notices", {}),
        ("post", "/v1/envelopes", {"json": {"envelopes": [rated]}}),  # opens follow-up 1
        ("get", "/v1/ratings", {}),
        ("get", "/v1/ratings", {"params": {"terminal_id": "SH-PD-0001"}}),
        ("get", "/v1/followups", {}),
        ("get", "/v1/followups", {"params": {"status": "sometimes"}}),
        ("post", "/v1/followups/1/close", {"json": {"note": "device replaced, called back"}}),
        ("post", "/v1/followups/1/close", {"json": {"note": "again"}}),
        ("post", "/v1/followups/999999/close", {"json": {"note": "none such"}}),
        ("post", "/v1/followups/1/close", {"json": {"note": ""}}),
        ("post", "/v1/envelopes", {"json": {"envelopes": [called]}}),  # a call for help
        ("get", "/v1/calls", {}),
        ("get", "/v1/calls", {"params": {"status": "sometimes"}}),
        ("get", "/v1/calls/staff.call:visit-C1", {}),
        ("get", "/v1/calls/staff.call:none", {}),
        ("post", "/v1/calls/staff.call:visit-C1/take", {"json": {"staff": "S-1001"}}),
        ("post", "/v1/calls/staff.call:visit-C1/take", {"json": {"staff": "S-1002"}}),
        ("post", "/v1/calls/staff.call:none/take", {"json": {"staff": "S-1001"}}),
        ("post", "/v1/calls/staff.call:visit-C1/take", {"json": {"staff": "王 芳"}}),
        ("post", "/v1/envelopes", {"json": {"envelopes": [signed]}}),  # an audit checkpoint
        ("get", "/v1/audit-checkpoints", {"params": {"terminal": "SH-PD-0001"}}),
        ("get", "/v1/audit-checkpoints", {}),
        ("post", "/v1/tellers", {"json": {"teller": "B-0001", "password": "lobby-2026"}}),
        ("post", "/v1/tellers", {"json": {"teller": "B-0001", "password": "short"}}),
        ("post", "/v1/teller-sign-ons", {"json": {"teller": "B-0001", "password": "lobby-2026"}}),
        ("post", "/v1/teller-sign-ons", {"data": b"[1]"}),
        ("post", "/v1/enrolment-tokens", {**operator, "json": {"terminal_id": "SH-PD-0001"}}),
        ("post", "/v1/enrolment-tokens", {**operator, "json": {"terminal_id": "sh 1"}}),
        ("post", "/v1/enrolment-tokens/revoke", {**operator, "json": {"token": spare}}),
        ("post", "/v1/enrolment-tokens/revoke", {**operator, "json": {"token": spare}}),
        ("post", "/v1/enrolment-tokens/revoke", {**operator, "json": {}}),
        ("post", "/v1/enrolments", {"json": {"enrolment_token": issued,
                                             "terminal_id": "SH-PD-0001"}}),
        ("post", "/v1/enrolments", {"json": {"enrolment_token": issued,
                                             "terminal_id": "SH-PD-0001"}}),  # used
        ("post", "/v1/enrolments", {"json": {"terminal_id": "SH-PD-0001"}}),
        ("get", "/v1/whoami", {}),
        ("post", "/v1/heartbeats", {"json": {"terminal_id": "SH-PD-0001", "uptime_s": 5.0,
                                             "devices": {"printer": {"state": "ready"}},
                                             "outbox": {"pending": 0, "parked": 0,
                                                        "oldest_age_s": None}}}),
        ("post", "/v1/heartbeats", {"json": {"devices": []}}),
        ("get", "/v1/terminals", operator),
        ("get", "/v1/terminals/SH-PD-0001/heartbeats", operator),
        ("get", "/v1/terminals/SH-PD-0001/config", {}),  # none offered yet
        ("post", "/v1/terminals/SH-PD-0001/config", {**operator, "json": {"profile": {
            "terminal": {"id": "SH-PD-0001"}, "services": ["household_proof"]}}}),
        ("post", "/v1/terminals/SH-PD-0001/config", {**operator, "json": {"profile": 3}}),
        ("get", "/v1/terminals/SH-PD-0001/config", {}),
        ("post", "/v1/terminals/SH-PD-0001/config/1/status", {"json": {
            "status": "rejected", "detail": "services: too few"}}),
        ("post", "/v1/terminals/SH-PD-0001/config/9/status", {"json": {"status": "applied"}}),
        ("post", "/v1/terminals/SH-PD-0001/config/1/status", {"json": {"status": "maybe"}}),
        ("get", "/v1/terminals/SH-PD-0001/config/history", operator),
        ("post", "/v1/terminals/SH-PD-0001/revoke", operator),
        ("post", "/v1/terminals/SH-PD-0001/revoke", operator),
    ]


def check_server_against_contract(bo: RunningBackOffice) -> None:
    source = (ROOT / "backoffice" / "server.py").read_text(encoding="utf-8")
    routed = set(re.findall(r'"(/v1/[a-z-]+/?)"', source)) | set(terminal_routes.ROUTES)
    assert routed == {p if p in terminal_routes.ROUTES else p.split("{")[0]
                      for p in SPEC["paths"]}
    covered = set()
    operator = {"Authorization": f"Bearer {bo.secrets.operator_token}"}
    for method, path, request in _walk(bo):
        operation = SPEC["paths"][_template(path)][method]
        headers = operator if request.pop("as", None) == "operator" else bo.headers
        answer = requests.request(method, bo.url + path, headers=headers, timeout=30,
                                  **request)
        responses = operation["responses"]
        assert str(answer.status_code) in responses, (method, path, answer.status_code)
        schema = responses[str(answer.status_code)].get("content", {}).get(
            "application/json", {}).get("schema")
        if schema is not None:
            body = answer.json()
            errors = list(Draft202012Validator({**schema, "components": SPEC["components"]})
                          .iter_errors(body))
            assert not errors, (method, path, answer.status_code, errors[0].message, body)
        covered.add((method, _template(path), answer.status_code))
        anonymous = requests.request(method, bo.url + path, timeout=30, **request)
        if operation.get("security") == []:
            assert anonymous.status_code != 401, (method, path)
        else:
            assert anonymous.status_code == 401, (method, path)
    every = {(m, p) for p, methods in SPEC["paths"].items() for m in methods}
    assert {(m, p) for m, p, _ in covered} == every  # the walk reaches every operation
    successes = {(m, p) for m, p, code in covered if code == 200}
    assert len(successes) >= 12, successes  # and most of them answer with their 200
