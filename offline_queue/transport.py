"""How envelopes reach the back office, and how its answers map to retry / park / done."""

from __future__ import annotations

import base64
import email.utils
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from offline_queue.envelope import Envelope

if TYPE_CHECKING:
    import requests

# Statuses that say "not now" rather than "never": the request itself may succeed later.
# 401/403/404 say the terminal's credentials or endpoint are wrong, not the envelopes:
# parking the whole queue for a rotated token would leave staff unparking it by hand.
_RETRYABLE_4XX = frozenset({401, 403, 404, 408, 425, 429})
_DETAIL_MAX = 300
RETRY_AFTER_MAX_S = 3600.0  # a server asking for longer is still tried again within the hour


class DeliveryOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    detail: str = ""
    retry_after_s: float | None = None  # the server's Retry-After, for a retryable answer


class Transport(Protocol):
    def deliver(self, batch: Sequence[Envelope]) -> dict[str, DeliveryResult]:
        """Return one result per idempotency key of the batch."""
        ...


_SERVER_STATUS = {
    "accepted": DeliveryOutcome.ACCEPTED,
    "duplicate": DeliveryOutcome.DUPLICATE,
    "rejected": DeliveryOutcome.PERMANENT,
}


class HttpTransport:
    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
        session: requests.Session | Callable[[], requests.Session] | None = None,
    ) -> None:
        """`session`: the HTTP session to post with, or what makes it (at the first delivery,
        on the sync worker's thread: requests is not imported on the way to a terminal's
        first frame)."""
        self.url = url
        self.timeout_s = timeout_s
        self.headers = dict(headers or {})
        self._session = session

    @property
    def session(self) -> requests.Session:
        if self._session is None or callable(self._session):
            import requests

            self._session = (self._session or requests.Session)()
        return self._session

    def deliver(self, batch: Sequence[Envelope]) -> dict[str, DeliveryResult]:
        if not batch:
            return {}
        import requests

        body = encode_batch(batch)
        try:
            resp = self.session.post(
                self.url,
                json=body,
                headers=self.headers,
                timeout=self.timeout_s,
                # A redirect on the envelope endpoint is a misconfiguration; following it would
                # turn the POST into a GET on some servers.
                allow_redirects=False,
            )
        except requests.Timeout:
            return _all(batch, DeliveryOutcome.RETRYABLE, f"timeout after {self.timeout_s:g} s")
        except requests.ConnectionError as exc:
            return _all(batch, DeliveryOutcome.RETRYABLE, f"connection error: {_short(exc)}")
        except requests.RequestException as exc:
            return _all(batch, DeliveryOutcome.RETRYABLE, f"request failed: {_short(exc)}")
        with resp:
            return self._interpret(batch, resp)

    def _interpret(
        self, batch: Sequence[Envelope], resp: requests.Response
    ) -> dict[str, DeliveryResult]:
        code = resp.status_code
        if code == 200:
            return parse_results(batch, resp)
        if code == 413 and len(batch) > 1:
            # The batch, not any one envelope, is too big: halve it rather than park envelopes
            # that would each have been fine alone. Only a single oversized envelope is parked.
            mid = len(batch) // 2
            return {**self.deliver(batch[:mid]), **self.deliver(batch[mid:])}
        if code >= 500 or code in _RETRYABLE_4XX:
            wait = retry_after(resp.headers.get("Retry-After"))
            result = DeliveryResult(DeliveryOutcome.RETRYABLE, f"HTTP {code}", wait)
            return {e.idempotency_key: result for e in batch}
        if 400 <= code < 500:
            return _all(batch, DeliveryOutcome.PERMANENT, f"HTTP {code}: {_trim(resp.text)}")
        # 1xx/2xx-other/3xx: not part of the contract; hold the envelopes and keep trying.
        return _all(batch, DeliveryOutcome.RETRYABLE, f"unexpected HTTP {code}")


def encode_batch(batch: Sequence[Envelope]) -> dict[str, Any]:
    """The body of a POST /v1/envelopes (the contract: docs/backoffice-openapi.json)."""
    return {"envelopes": [
        {"idempotency_key": e.idempotency_key, "kind": e.kind, "created_at": e.created_at,
         "payload_b64": base64.b64encode(e.payload).decode("ascii")}
        for e in batch]}


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped at
    RETRY_AFTER_MAX_S; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(RETRY_AFTER_MAX_S, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    wait = when - (time.time() if now is None else now)
    return min(RETRY_AFTER_MAX_S, max(0.0, wait)) if math.isfinite(wait) else None


def parse_results(batch: Sequence[Envelope], resp: requests.Response) -> dict[str, DeliveryResult]:
    try:
        doc: Any = resp.json()
    except (ValueError, RecursionError):
        return _all(batch, DeliveryOutcome.RETRYABLE, "HTTP 200 but body is not JSON")
    return results_of(batch, doc)


def results_of(batch: Sequence[Envelope], doc: Any) -> dict[str, DeliveryResult]:
    """One result per key of the batch from a 200's JSON, whatever shape it has: what the
    server does not answer for is retried, never taken as delivered."""
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        return _all(batch, DeliveryOutcome.RETRYABLE, "HTTP 200 but no 'results' list")
    wanted = {e.idempotency_key for e in batch}
    answered: dict[str, DeliveryResult] = {}
    for item in doc["results"]:
        if not isinstance(item, dict):
            continue
        key, status = item.get("idempotency_key"), item.get("status")
        if not isinstance(key, str) or key not in wanted:
            continue
        detail = item.get("detail")
        detail = detail if isinstance(detail, str) else ""
        outcome = _SERVER_STATUS.get(status) if isinstance(status, str) else None
        if outcome is None:
            answered[key] = DeliveryResult(
                DeliveryOutcome.RETRYABLE, f"unknown status {status!r} from server"
            )
        else:
            answered[key] = DeliveryResult(outcome, detail)
    missing = DeliveryResult(DeliveryOutcome.RETRYABLE, "no result for this key in HTTP 200")
    return {e.idempotency_key: answered.get(e.idempotency_key, missing) for e in batch}


def _all(
    batch: Sequence[Envelope], outcome: DeliveryOutcome, detail: str
) -> dict[str, DeliveryResult]:
    result = DeliveryResult(outcome, detail)
    return {e.idempotency_key: result for e in batch}


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 3] + "..."


def _short(exc: BaseException) -> str:
    return _trim(f"{type(exc).__name__}: {exc}")
