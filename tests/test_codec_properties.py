"""Property-based tests (hypothesis, seeded by its database-less derandomized profile) of the
envelope codec both sides speak and of the back office's input checks: whatever arrives,
the answer is a result or a refusal with a reason, never an exception, and nothing the
server did not answer for is ever taken as delivered."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.db import SqliteDatabase
from backoffice.store import (
    ACCEPTED,
    DUPLICATE,
    MAX_DEPTH,
    REJECTED,
    BackOfficeStore,
    parse_batch,
    parse_json,
)
from offline_queue.envelope import PENDING, Envelope
from offline_queue.transport import DeliveryOutcome, encode_batch, results_of

PROPERTIES = settings(max_examples=200, derandomize=True, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])

keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
               max_size=128)
envelopes = st.lists(st.builds(
    lambda key, kind, payload, at: Envelope(0, key, kind, payload, at, 0, PENDING, None, at),
    keys, st.text(min_size=1, max_size=64), st.binary(max_size=2048),
    st.floats(min_value=0, max_value=4e9, allow_nan=False)),
    max_size=20, unique_by=lambda e: e.idempotency_key)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@PROPERTIES
@given(envelopes)
def test_what_the_terminal_sends_the_back_office_reads_back_exactly(batch: list[Envelope]
                                                                    ) -> None:
    body = json.dumps(encode_batch(batch)).encode()
    parsed = parse_batch(body)
    assert [(k, kind, base64.b64decode(b64)) for k, kind, b64 in parsed] == \
        [(e.idempotency_key, e.kind, e.payload) for e in batch]


@PROPERTIES
@given(envelopes, json_values)
def test_any_200_answer_gives_one_result_per_key_and_delivers_only_what_it_names(
        batch: list[Envelope], answer: Any) -> None:
    results = results_of(batch, answer)
    assert set(results) == {e.idempotency_key for e in batch}
    named = set()
    if isinstance(answer, dict) and isinstance(answer.get("results"), list):
        named = {r.get("idempotency_key") for r in answer["results"] if isinstance(r, dict)
                 and r.get("status") in ("accepted", "duplicate")}
    for key, result in results.items():
        if result.outcome in (DeliveryOutcome.ACCEPTED, DeliveryOutcome.DUPLICATE):
            assert key in named


@PROPERTIES
@given(envelopes, st.sampled_from(["accepted", "duplicate", "rejected", "weird"]))
def test_an_answer_naming_every_key_is_taken_for_every_key(batch: list[Envelope],
                                                           status: str) -> None:
    answer = {"results": [{"idempotency_key": e.idempotency_key, "status": status}
                          for e in reversed(batch)]}
    expected = {"accepted": DeliveryOutcome.ACCEPTED, "duplicate": DeliveryOutcome.DUPLICATE,
                "rejected": DeliveryOutcome.PERMANENT}.get(status, DeliveryOutcome.RETRYABLE)
    assert {r.outcome for r in results_of(batch, answer).values()} <= {expected}


@PROPERTIES
@given(st.binary(max_size=4096) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_body_is_a_batch_or_a_value_error(raw: bytes) -> None:
    try:
        parsed = parse_batch(raw)
    except ValueError:
        return
    assert all(isinstance(k, str) and 0 < len(k) <= 128 for k, _, _ in parsed)


@PROPERTIES
@given(st.integers(min_value=1, max_value=200), st.sampled_from(["[", '{"a":']))
def test_json_deeper_than_the_limit_is_refused_and_shallower_is_not(depth: int, opener: str
                                                                     ) -> None:
    closer = "]" if opener == "[" else "}"
    raw = opener * depth + ("0" if opener == '{"a":' else "") + closer * depth
    if depth > MAX_DEPTH:
        with pytest.raises(ValueError, match="nested deeper"):
            parse_json(raw)
    else:
        parse_json(raw)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> BackOfficeStore:
    path: Path = tmp_path_factory.mktemp("bo") / "store.sqlite3"
    return BackOfficeStore(SqliteDatabase(path), citizen_hash=lambda n: n[::-1],
                           cipher=Fernet(Fernet.generate_key()))


@PROPERTIES
@given(keys, st.sampled_from(["application.submit", "locker.collected"]) | st.text(max_size=80),
       st.binary(max_size=2048) | json_values.map(lambda v: json.dumps(v).encode())
       | st.builds(lambda no, number, at: json.dumps({
           "tracking_no": no, "service_id": "s", "terminal_id": "t", "form": {},
           "citizen": {"id_number": number, "name": "n"}, "submitted_at": at}).encode(),
           st.text(max_size=20), st.text(max_size=20), st.floats() | st.integers()))
def test_any_envelope_is_accepted_duplicate_or_rejected_with_a_reason(
        store: BackOfficeStore, key: str, kind: str, payload: bytes) -> None:
    status, detail = store.accept(key, kind, payload)
    assert status in (ACCEPTED, DUPLICATE, REJECTED)
    assert detail
    again, _ = store.accept(key, kind, payload)
    assert again == (DUPLICATE if status in (ACCEPTED, DUPLICATE) else REJECTED)


@PROPERTIES
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("XYZ"),
                          st.booleans()), max_size=12))
def test_a_batch_stores_each_key_once_and_each_tracking_number_under_one_key(
        tmp_path_factory: pytest.TempPathFactory, items: list[tuple[str, str, bool]]) -> None:
    store = BackOfficeStore(SqliteDatabase(tmp_path_factory.mktemp("b") / "s.sqlite3"),
                            citizen_hash=lambda n: n, cipher=Fernet(Fernet.generate_key()))
    batch = []
    for key, tracking, is_application in items:
        doc = {"tracking_no": tracking, "service_id": "s", "terminal_id": "t", "form": {},
               "citizen": {"id_number": "1", "name": "n"}, "submitted_at": 1.0}
        kind = "application.submit" if is_application else "staff.alert"
        batch.append((key, kind, json.dumps(doc).encode()))
    answers = store.accept_many(batch)
    accepted = [b[0] for b, (status, _) in zip(batch, answers, strict=True)
                if status == ACCEPTED]
    assert len(accepted) == len(set(accepted))  # a key is taken once
    counts = store.counts()
    assert counts["envelopes"] == len(accepted) == counts["applications"] + counts["events"]
    tracked = [b[2] for b, (status, _) in zip(batch, answers, strict=True)
               if status == ACCEPTED and b[1] == "application.submit"]
    assert len({json.loads(t)["tracking_no"] for t in tracked}) == len(tracked)
    assert all(status != ACCEPTED for status, _ in store.accept_many(batch))  # again: none
