"""好差评 at the reference back office, over loopback HTTP, on SQLite and on PostgreSQL: a
terminal's `visit.rating` envelopes are stored once per visit and counted; a bad rating opens
a follow-up that staff list and close once; a resend is a duplicate, a second rating of a
visit under another key is rejected and the first stands; every malformed field is rejected
by name without losing what was accepted; a failure half-way leaves neither the rating nor
its envelope; and every answer keeps to docs/backoffice-openapi.json."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from backoffice import RunningBackOffice
from backoffice.server import DB_FILE
from tests import contract

pytestmark = pytest.mark.realstack
TERMINAL = "SH-PD-0001"


@pytest.fixture
def bo(backoffice_on_each_engine: RunningBackOffice) -> RunningBackOffice:
    return backoffice_on_each_engine


def rating(visit_id: str = "visit-0001", level: int = 5, reasons: list[str] | None = None,
           **changes: Any) -> dict[str, Any]:
    """A visit.rating payload as kiosk/session/visit.py sends it."""
    doc: dict[str, Any] = {"terminal_id": TERMINAL, "at": 1_796_169_600.5, "visit_id": visit_id,
                           "service_id": "household_proof", "level": level,
                           "reasons": reasons or [], "language": "zh", "elder": False}
    doc.update(changes)
    return doc


def envelope(key: str, doc: dict[str, Any], kind: str = "visit.rating") -> dict[str, Any]:
    return {"idempotency_key": key, "kind": kind,
            "payload_b64": base64.b64encode(json.dumps(doc).encode()).decode()}


def schema_errors(schema: dict[str, Any], body: Any) -> list[str]:
    validator = Draft202012Validator({**schema, "components": contract.SPEC["components"]})
    return [e.message for e in validator.iter_errors(body)]


def call(bo: RunningBackOffice, method: str, path: str, **kw: Any) -> requests.Response:
    """A request whose answer is checked against what the contract documents for it."""
    answer = requests.request(method, bo.url + path, headers=bo.headers, timeout=30, **kw)
    operation = contract.SPEC["paths"][contract._template(path)][method]
    documented = operation["responses"].get(str(answer.status_code))
    assert documented is not None, (method, path, answer.status_code, answer.text)
    schema = documented["content"]["application/json"]["schema"]
    assert not schema_errors(schema, answer.json()), (method, path, answer.json())
    return answer


def deliver(bo: RunningBackOffice, *envelopes: dict[str, Any]) -> list[tuple[str, str]]:
    answer = call(bo, "post", "/v1/envelopes", json={"envelopes": list(envelopes)})
    assert answer.status_code == 200
    return [(r["status"], r["detail"]) for r in answer.json()["results"]]


def statuses(bo: RunningBackOffice, *envelopes: dict[str, Any]) -> list[str]:
    return [status for status, _ in deliver(bo, *envelopes)]


def ratings(bo: RunningBackOffice, **params: str) -> dict[str, Any]:
    answer = call(bo, "get", "/v1/ratings", params=params)
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def followups(bo: RunningBackOffice, **params: str) -> list[dict[str, Any]]:
    answer = call(bo, "get", "/v1/followups", params=params)
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()["followups"]
    return found


def close(bo: RunningBackOffice, followup_id: object, body: Any) -> requests.Response:
    return call(bo, "post", f"/v1/followups/{followup_id}/close", json=body)


def sql(bo: RunningBackOffice, statement: str) -> list[Any]:
    """A statement on the back office's own database, from another connection."""
    databases = bo.server.databases
    assert databases is not None
    if databases.url is not None:
        import psycopg

        with psycopg.connect(databases.url, autocommit=True) as conn:
            cur = conn.execute(statement)
            return list(cur.fetchall()) if cur.description else []
    with sqlite3.connect(databases.data_dir / DB_FILE) as db:
        return db.execute(statement).fetchall()


def test_a_good_rating_is_stored_and_counted_without_a_followup(bo: RunningBackOffice) -> None:
    doc = rating("visit-good-1", level=5, service_id=None, language="en", elder=True)
    assert not schema_errors(contract.SPEC["components"]["schemas"]["VisitRating"], doc)
    assert deliver(bo, envelope("rating-1", doc)) == [
        ("accepted", "rating of visit visit-good-1 received")]
    found = ratings(bo)
    (stored,) = found["ratings"]
    received_at = stored.pop("received_at")
    assert stored == {"terminal_id": TERMINAL, "visit_id": "visit-good-1", "service_id": None,
                      "level": 5, "reasons": [], "language": "en", "elder": True,
                      "rated_at": 1_796_169_600.5}
    assert received_at > 1_700_000_000
    assert found["summary"] == {"count": 1, "by_level": {"1": 0, "2": 0, "3": 0, "4": 0,
                                                         "5": 1}, "satisfied_share": 1.0}
    assert followups(bo) == []
    # A rating is a terminal event like any other: one envelope, one event.
    assert bo.store.counts() == {"applications": 0, "envelopes": 1, "events": 1}


def test_a_bad_rating_opens_a_followup_that_staff_close_once(bo: RunningBackOffice) -> None:
    bad = rating("visit-bad-01", level=1, reasons=["device_failed", "waited_too_long"])
    assert deliver(bo, envelope("rating-bad", bad)) == [
        ("accepted", "rating of visit visit-bad-01 received, follow-up opened")]
    (opened,) = followups(bo)
    assert {k: opened[k] for k in ("terminal_id", "visit_id", "level", "reasons", "status",
                                   "closed_at", "note")} == {
        "terminal_id": TERMINAL, "visit_id": "visit-bad-01", "level": 1,
        "reasons": ["device_failed", "waited_too_long"], "status": "open", "closed_at": None,
        "note": None}
    assert followups(bo, status="open") == [opened] and followups(bo, status="closed") == []

    answer = close(bo, opened["id"], {"note": "打印机卡纸已修复，已电话回访"})
    assert answer.status_code == 200
    closed = answer.json()
    assert closed["status"] == "closed" and closed["note"] == "打印机卡纸已修复，已电话回访"
    assert closed["closed_at"] >= opened["opened_at"]
    assert {k: v for k, v in closed.items() if k not in ("status", "closed_at", "note")} == \
        {k: v for k, v in opened.items() if k not in ("status", "closed_at", "note")}

    again = close(bo, opened["id"], {"note": "closed twice"})
    assert again.status_code == 409 and "closed already" in again.json()["error"]
    assert followups(bo) == [closed]  # the first close's note stands
    assert followups(bo, status="open") == [] and followups(bo, status="closed") == [closed]
    assert close(bo, opened["id"] + 1000, {"note": "no such"}).status_code == 404
    assert close(bo, "not-a-number", {"note": "no such"}).status_code == 404
    assert close(bo, "9" * 40, {"note": "no such"}).status_code == 404  # past a BIGINT
    assert call(bo, "get", "/v1/followups", params={"status": "pending"}).status_code == 400


def test_open_followups_are_listed_first_oldest_first(bo: RunningBackOffice) -> None:
    for i in range(3):
        assert statuses(bo, envelope(f"r-{i}", rating(f"visit-ord-{i}", level=2))) == \
            ["accepted"]
    first = followups(bo)
    assert [f["visit_id"] for f in first] == ["visit-ord-0", "visit-ord-1", "visit-ord-2"]
    assert close(bo, first[0]["id"], {"note": "回访完毕"}).status_code == 200
    assert [(f["visit_id"], f["status"]) for f in followups(bo)] == [
        ("visit-ord-1", "open"), ("visit-ord-2", "open"), ("visit-ord-0", "closed")]


@pytest.mark.parametrize(("body", "problem"), [
    ({}, "'note'"),
    ({"note": ""}, "'note'"),
    ({"note": "   "}, "'note'"),
    ({"note": 7}, "'note'"),
    ({"note": "x" * 501}, "longer than 500"),
    ({"note": "已回访，电话 13812345678"}, "phone or ID number"),
    ({"note": "身份证 31011519800101002X 本人"}, "phone or ID number"),
    (["note"], "JSON object"),
])
def test_a_followup_is_not_closed_with_a_bad_note(bo: RunningBackOffice, body: Any,
                                                   problem: str) -> None:
    statuses(bo, envelope("r-bad", rating("visit-note-1", level=2, reasons=["other"])))
    (opened,) = followups(bo)
    answer = close(bo, opened["id"], body)
    assert answer.status_code == 400 and problem in answer.json()["error"]
    assert followups(bo) == [opened]  # still open, no note
    assert close(bo, opened["id"], {"note": "x" * 500}).status_code == 200


def test_a_resent_rating_is_a_duplicate_and_counted_once(bo: RunningBackOffice) -> None:
    bad = envelope("rating-twice", rating("visit-twice", level=2, reasons=["hard_to_use"]))
    assert statuses(bo, bad, bad) == ["accepted", "duplicate"]  # twice in one batch
    assert statuses(bo, bad) == ["duplicate"]  # and again later, as after a lost answer
    assert ratings(bo)["summary"]["count"] == 1
    assert len(followups(bo)) == 1
    assert bo.store.counts() == {"applications": 0, "envelopes": 1, "events": 1}


def test_a_second_rating_of_a_visit_under_another_key_is_rejected_and_the_first_stands(
        bo: RunningBackOffice) -> None:
    assert statuses(bo, envelope("first", rating("visit-once-1", level=5))) == ["accepted"]
    ((status, detail),) = deliver(bo, envelope("second", rating(
        "visit-once-1", level=1, reasons=["other"])))
    assert status == "rejected"
    assert "'visit-once-1'" in detail and "already rated" in detail
    (kept,) = ratings(bo)["ratings"]
    assert (kept["visit_id"], kept["level"]) == ("visit-once-1", 5)
    assert followups(bo) == []  # the refused bad rating opened nothing
    assert bo.store.counts() == {"applications": 0, "envelopes": 1, "events": 1}
    # Rejected leaves no trace: its key is unknown, so it is rejected again, not a duplicate.
    assert statuses(bo, envelope("second", rating("visit-once-1", level=1))) == ["rejected"]
    # Within one batch the first wins too; the same visit id on another terminal is its own.
    assert statuses(bo, envelope("a", rating("visit-once-2", level=4)),
                    envelope("b", rating("visit-once-2", level=2)),
                    envelope("c", rating("visit-once-2", level=1, terminal_id="SH-PD-0002")),
                    ) == ["accepted", "rejected", "accepted"]
    assert [(r["terminal_id"], r["visit_id"], r["level"]) for r in ratings(bo)["ratings"]] == [
        (TERMINAL, "visit-once-1", 5), (TERMINAL, "visit-once-2", 4),
        ("SH-PD-0002", "visit-once-2", 1)]
    assert [f["terminal_id"] for f in followups(bo)] == ["SH-PD-0002"]
    assert bo.store.counts() == {"applications": 0, "envelopes": 3, "events": 3}


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in rating("visit-bad-form").items() if k != name}


MALFORMED = [
    (rating("visit-bad-form", level=0), "level"),
    (rating("visit-bad-form", level=6), "level"),
    (rating("visit-bad-form", level="5"), "level"),
    (rating("visit-bad-form", level=True), "level"),
    (_without("level"), "level"),
    (rating("visit-bad-form", level=5, reasons=["waited_too_long"]), "reasons"),
    (rating("visit-bad-form", level=3, reasons=["other"]), "reasons"),
    (rating("visit-bad-form", level=1, reasons=[f"code_{c}" for c in "abcdefghi"]), "reasons"),
    (rating("visit-bad-form", level=1, reasons=["Device-Failed"]), "reasons"),
    (rating("visit-bad-form", level=1, reasons=["x" * 41]), "reasons"),
    (rating("visit-bad-form", level=1, reasons=[""]), "reasons"),
    (rating("visit-bad-form", level=1, reasons=["other", "other"]), "reasons"),
    (rating("visit-bad-form", level=1, reasons="other"), "reasons"),
    (_without("reasons"), "reasons"),
    (rating("short"), "visit_id"),
    (rating("visit id with spaces"), "visit_id"),
    (rating("v" * 65), "visit_id"),
    (rating("visit/../../etc"), "visit_id"),
    ({**rating(), "visit_id": 12345678}, "visit_id"),
    (_without("visit_id"), "visit_id"),
    (_without("terminal_id"), "terminal_id"),
    (rating("visit-bad-form", terminal_id=""), "terminal_id"),
    (rating("visit-bad-form", terminal_id=["SH-PD-0001"]), "terminal_id"),
    (_without("at"), "at"),
    (rating("visit-bad-form", at="now"), "at"),
    (rating("visit-bad-form", at=False), "at"),
    (_without("service_id"), "service_id"),
    (rating("visit-bad-form", service_id=""), "service_id"),
    (rating("visit-bad-form", service_id=7), "service_id"),
    (rating("visit-bad-form", language="fr"), "language"),
    (_without("language"), "language"),
    (rating("visit-bad-form", elder="no"), "elder"),
    (rating("visit-bad-form", elder=0), "elder"),
    (_without("elder"), "elder"),
    # Nothing else rides along: a rating never carries a citizen's data.
    (rating("visit-bad-form", phone="13812345678"), "phone"),
    (rating("visit-bad-form", citizen={"id_number": "310115198001010024"}), "citizen"),
]


@pytest.mark.parametrize(("doc", "field"), MALFORMED)
def test_a_malformed_rating_is_rejected_naming_the_field_and_nothing_accepted_is_lost(
        bo: RunningBackOffice, doc: dict[str, Any], field: str) -> None:
    assert schema_errors(contract.SPEC["components"]["schemas"]["VisitRating"], doc)
    before = [envelope("kept-good", rating("visit-kept-1", level=4)),
              envelope("kept-bad", rating("visit-kept-2", level=1, reasons=["other"]))]
    assert statuses(bo, *before) == ["accepted", "accepted"]
    results = deliver(bo, envelope("malformed", doc),
                      envelope("after", rating("visit-kept-3", level=3)))
    assert results[0][0] == "rejected" and f"'{field}'" in results[0][1], results[0]
    assert results[1][0] == "accepted"  # the rest of its batch stands
    assert [r["visit_id"] for r in ratings(bo)["ratings"]] == [
        "visit-kept-1", "visit-kept-2", "visit-kept-3"]
    assert [f["visit_id"] for f in followups(bo)] == ["visit-kept-2"]
    assert bo.store.counts() == {"applications": 0, "envelopes": 3, "events": 3}
    fixed = envelope("malformed", rating("visit-bad-form", level=2))  # its key is unknown
    assert statuses(bo, fixed) == ["accepted"]


def test_the_summary_figures_are_right(bo: RunningBackOffice) -> None:
    levels = {TERMINAL: [5, 5, 4, 3, 2, 1, 1], "SH-PD-0002": [5, 1]}
    batch = [envelope(f"{t}-{i}", rating(f"visit-sum-{i:02d}", level=level, terminal_id=t))
             for t, of_terminal in levels.items() for i, level in enumerate(of_terminal)]
    assert set(statuses(bo, *batch)) == {"accepted"}
    everyone = ratings(bo)
    assert everyone["summary"] == {"count": 9, "by_level": {"1": 3, "2": 1, "3": 1, "4": 1,
                                                            "5": 3},
                                   "satisfied_share": pytest.approx(5 / 9)}
    assert len(everyone["ratings"]) == 9
    one = ratings(bo, terminal_id=TERMINAL)
    assert one["summary"] == {"count": 7, "by_level": {"1": 2, "2": 1, "3": 1, "4": 1, "5": 2},
                              "satisfied_share": pytest.approx(4 / 7)}
    assert {r["terminal_id"] for r in one["ratings"]} == {TERMINAL}
    assert ratings(bo, terminal_id="SH-PD-9999") == {"ratings": [], "summary": {
        "count": 0, "by_level": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        "satisfied_share": 0.0}}
    assert len(followups(bo)) == 4  # levels 2, 1, 1 and the other terminal's 1


def test_a_failure_writing_the_followup_leaves_neither_the_rating_nor_its_envelope(
        bo: RunningBackOffice) -> None:
    """As a crash half-way would: the rating and its envelope go with the follow-up, so the
    terminal's retry is accepted and opens it, instead of a duplicate that never would."""
    bad = envelope("rating-crash", rating("visit-crash", level=1, reasons=["device_failed"]))
    sql(bo, "ALTER TABLE followups RENAME TO followups_away")
    try:
        answer = requests.post(bo.url + "/v1/envelopes", json={"envelopes": [bad]},
                               headers=bo.headers, timeout=30)
        assert answer.status_code == 500  # retryable: the terminal sends it again
    finally:
        sql(bo, "ALTER TABLE followups_away RENAME TO followups")
    assert sql(bo, "SELECT COUNT(*) FROM ratings")[0][0] == 0
    assert bo.store.counts() == {"applications": 0, "envelopes": 0, "events": 0}
    assert statuses(bo, bad) == ["accepted"]
    assert [f["visit_id"] for f in followups(bo)] == ["visit-crash"]


def test_ratings_and_followups_need_the_token(bo: RunningBackOffice) -> None:
    statuses(bo, envelope("r", rating("visit-token", level=1)))
    for method, path in (("get", "/v1/ratings"), ("get", "/v1/followups"),
                         ("post", "/v1/followups/1/close")):
        answer = requests.request(method, bo.url + path, json={"note": "x"}, timeout=10)
        assert answer.status_code == 401, path
    assert followups(bo)[0]["status"] == "open"


CONTRACT_RATING = {"terminal_id": TERMINAL, "at": 1.0, "visit_id": "visit-contract",
                   "service_id": "household_proof", "level": 1, "reasons": ["device_failed"],
                   "language": "zh", "elder": False}
RATING_WALK: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/v1/envelopes", {"json": {"envelopes": [
        envelope("contract-rating-1", CONTRACT_RATING)]}}),
    ("get", "/v1/ratings", {}),
    ("get", "/v1/ratings", {"params": {"terminal_id": TERMINAL}}),
    ("get", "/v1/followups", {}),
    ("get", "/v1/followups", {"params": {"status": "sometimes"}}),
    ("post", "/v1/followups/1/close", {"json": {"note": "device replaced; called back"}}),
    ("post", "/v1/followups/1/close", {"json": {"note": "again"}}),
    ("post", "/v1/followups/999999/close", {"json": {"note": "none such"}}),
    ("post", "/v1/followups/1/close", {"json": {"note": ""}}),
]


def test_the_contract_holds_with_the_rating_endpoints_walked(
        bo: RunningBackOffice, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole contract check (every documented operation served and walked, every body
    valid), with the rating endpoints' steps added to the walk of tests/contract.py unless
    it takes them already."""
    walk = contract._walk

    def with_ratings(hash_of: str) -> list[tuple[str, str, dict[str, Any]]]:
        steps = walk(hash_of)
        walked = any(path == "/v1/ratings" for _, path, _ in steps)
        return steps if walked else [*steps, *RATING_WALK]

    monkeypatch.setattr(contract, "_walk", with_ratings)
    contract.check_server_against_contract(bo)
