"""The one module through which the kiosk asks the back office anything.

Submissions do not pass here: they go through the outbox (offline_queue) so that nothing is
lost offline. This client answers questions that need the back office now, within a limit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import requests

log = logging.getLogger(__name__)

ENVELOPES_PATH = "/v1/envelopes"


class BackOfficeClient:
    def __init__(
        self, base_url: str, *, token: str | None = None, timeout_s: float = 8.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = requests.Session()

    @property
    def envelopes_url(self) -> str:
        return self.base_url + ENVELOPES_PATH

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> object | None:
        try:
            r = self._http.get(self.base_url + path, params=params, headers=self.headers,
                               timeout=self.timeout_s)
        except requests.RequestException as e:
            log.info("back office unreachable: %s", type(e).__name__)
            return None
        if r.status_code != 200:
            log.warning("back office answered %s to %s", r.status_code, path)
            return None
        try:
            body: object = r.json()
        except ValueError:
            log.warning("back office answered %s with something that is not JSON", path)
            return None
        return body

    def applications_for(self, citizen_hash: str) -> Sequence[Mapping[str, str]] | None:
        body = self._get("/v1/applications", {"citizen_hash": citizen_hash})
        if not isinstance(body, dict) or not isinstance(body.get("applications"), list):
            return None
        return [a for a in body["applications"] if isinstance(a, dict)]

    def stats(self) -> dict[str, int] | None:
        body = self._get("/v1/stats")
        return body if isinstance(body, dict) else None
