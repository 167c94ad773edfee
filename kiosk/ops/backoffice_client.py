"""The one module through which the kiosk asks the back office anything.

Submissions do not pass here: they go through the outbox (offline_queue) so that nothing is
lost offline. This client answers questions that need the back office now, within a limit.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from kiosk.session.ports import CERTIFICATE_FIELDS, FACE_DECISIONS, FaceAnswer, IssueAnswer

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

ENVELOPES_PATH = "/v1/envelopes"


class BackOfficeClient:
    def __init__(
        self, base_url: str, *, token: str | None = None, timeout_s: float = 8.0,
        verify: bool | str = True,
    ) -> None:
        """`verify`: check the back office's TLS certificate (a path: against that CA)."""
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._verify = verify
        self._session: requests.Session | None = None
        self.verify_base_url = self.base_url  # certificates' QR codes point here

    def new_session(self) -> requests.Session:
        """An HTTP session that checks TLS as this client does (the sync worker's own)."""
        import requests  # at the first question, not on the way to the first frame

        session = requests.Session()
        session.verify = self._verify
        return session

    @property
    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = self.new_session()
        return self._session

    @property
    def envelopes_url(self) -> str:
        return self.base_url + ENVELOPES_PATH

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> object | None:
        return self._ask("GET", path, params=params)

    def _post(self, path: str, doc: Mapping[str, object]) -> object | None:
        return self._ask("POST", path, json=doc)

    def _ask(self, method: str, path: str, *, also: tuple[int, ...] = (),
             **request: object) -> object | None:
        """The JSON body of a 200 (or of a status in `also`), else None."""
        import requests

        try:
            r = self._http.request(method, self.base_url + path, headers=self.headers,
                                   timeout=self.timeout_s, **request)  # type: ignore[arg-type]
        except requests.RequestException as e:
            log.info("back office unreachable: %s", type(e).__name__)
            return None
        return self._answer(r, path, also)

    def _answer(self, r: requests.Response, path: str, also: tuple[int, ...]) -> object | None:
        if r.status_code != 200 and r.status_code not in also:
            log.warning("back office answered %s to %s", r.status_code, path)
            return None
        try:
            body: object = r.json()
        except ValueError:
            log.warning("back office answered %s with something that is not JSON", path)
            return None
        return body

    def verify_face(self, document_number: str, live_frame: bytes,
                    document_photo: bytes | None) -> FaceAnswer | None:
        """The back office compares the frame with the document's photo (or its own on file
        for the number); None when it cannot be asked or answers something else."""
        doc: dict[str, object] = {"document_number": document_number,
                                  "live_frame_b64": base64.b64encode(live_frame).decode()}
        if document_photo is not None:
            doc["document_photo_b64"] = base64.b64encode(document_photo).decode()
        body = self._post("/v1/face-verifications", doc)
        decision = body.get("decision") if isinstance(body, dict) else None
        if decision not in FACE_DECISIONS:
            if body is not None:
                log.warning("back office face verification answered garbage")
            return None
        assert isinstance(body, dict) and isinstance(decision, str)
        distance = body.get("distance")
        if isinstance(distance, bool) or not isinstance(distance, int | float):
            distance = None
        return FaceAnswer(decision, None if distance is None else float(distance))

    def issue_certificate(self, service_id: str, tracking_no: str, id_number: str,
                          name: str) -> IssueAnswer | None:
        """The back office issues the certificate now (idempotent by tracking number)."""
        body = self._ask("POST", "/v1/certificates", also=(422,), json={
            "service_id": service_id, "tracking_no": tracking_no,
            "citizen": {"id_number": id_number, "name": name}})
        if not isinstance(body, dict):
            return None
        if body.get("error") == "not_eligible":
            return IssueAnswer(not_eligible=str(body.get("reason") or "not_eligible"),
                               reason=str(body.get("message") or ""))
        if any(not isinstance(body.get(k), str | int | float) or isinstance(body.get(k), bool)
               for k in CERTIFICATE_FIELDS):
            log.warning("back office issued a certificate without %s",
                        ", ".join(k for k in CERTIFICATE_FIELDS if k not in body))
            return None
        return IssueAnswer(certificate=body)

    def assignee_of(self, tracking_no: str) -> str | None:
        """Whose certificate this application's is (for staff loading it into the locker)."""
        body = self._get(f"/v1/applications/{quote(tracking_no)}/assignee")
        number = body.get("id_number") if isinstance(body, dict) else None
        return number if isinstance(number, str) and number else None

    def pickup_codes(self, terminal_id: str) -> dict[str, str] | None:
        """The pickup codes of this terminal's loaded items, by application number."""
        body = self._get(f"/v1/lockers/{quote(terminal_id)}/pickup-codes")
        rows = body.get("pickup_codes") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return None
        return {str(r["application_no"]): str(r["pickup_code"]) for r in rows
                if isinstance(r, dict) and isinstance(r.get("application_no"), str)
                and isinstance(r.get("pickup_code"), str) and r["pickup_code"].isdigit()}

    def applications_for(self, citizen_hash: str) -> Sequence[Mapping[str, str]] | None:
        body = self._get("/v1/applications", {"citizen_hash": citizen_hash})
        if not isinstance(body, dict) or not isinstance(body.get("applications"), list):
            return None
        return [a for a in body["applications"] if isinstance(a, dict)]

    def call_status(self, key: str) -> str | None:
        """"open" or "taken" for a call for help; None while the back office does not have
        it yet (it comes through the outbox) or cannot be reached."""
        body = self._ask("GET", f"/v1/calls/{quote(key, safe='')}", also=(404,))
        status = body.get("status") if isinstance(body, dict) else None
        return status if status in ("open", "taken") else None

    def teller_signs_on(self, teller: str, password: str) -> bool | None:
        """The bank's staff sign-on (through the back office): True or False; None when it
        cannot be asked. The password goes in the request body only, never in a log."""
        body = self._post("/v1/teller-sign-ons", {"teller": teller, "password": password})
        ok = body.get("ok") if isinstance(body, dict) else None
        return ok if isinstance(ok, bool) else None

    def stats(self) -> dict[str, int] | None:
        body = self._get("/v1/stats")
        return body if isinstance(body, dict) else None

    # -- the terminal itself: credential, heartbeat, remote configuration -------------------

    def check_in(self) -> CheckIn:
        """Is the back office there, does it take our credential, what time is it there."""
        import requests

        started = time.monotonic()
        try:
            r = self._http.get(self.base_url + "/v1/whoami", headers=self.headers,
                               timeout=self.timeout_s)
        except requests.RequestException as e:
            return CheckIn(reachable=False, status=None, detail=type(e).__name__)
        took = time.monotonic() - started
        body = self._answer(r, "/v1/whoami", (401, 403))
        server_time = body.get("server_time") if isinstance(body, dict) else None
        if isinstance(server_time, bool) or not isinstance(server_time, int | float):
            server_time = None
        return CheckIn(reachable=True, status=r.status_code, round_trip_s=took,
                       server_time=None if server_time is None else float(server_time),
                       terminal_id=body.get("terminal_id") if isinstance(body, dict) else None,
                       detail=str(body.get("error", "")) if isinstance(body, dict) else "")

    def heartbeat(self, doc: Mapping[str, object]) -> dict[str, object] | None:
        """The back office's answer to one heartbeat (it names the newest configuration
        offered to us), or None."""
        body = self._post("/v1/heartbeats", doc)
        return body if isinstance(body, dict) else None

    def offered_config(self, terminal_id: str) -> dict[str, object] | None:
        """The newest configuration offered to this terminal ({version, profile, ...}); None
        when none is, or the back office cannot be asked."""
        body = self._ask("GET", f"/v1/terminals/{quote(terminal_id)}/config", also=(404,))
        if not isinstance(body, dict) or not isinstance(body.get("version"), int) \
                or not isinstance(body.get("profile"), dict):
            return None
        return body

    def audit_checkpoints(self, terminal_id: str) -> list[tuple[int, str]] | None:
        """(signed seq, signed hash) of the terminal's audit checkpoints the back office
        holds; None when it cannot be asked."""
        body = self._get("/v1/audit-checkpoints", {"terminal": terminal_id})
        rows = body.get("checkpoints") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            return None
        return [(r["seq"], r["hash"]) for r in rows if isinstance(r, dict)
                and isinstance(r.get("seq"), int) and isinstance(r.get("hash"), str)]

    def config_status(self, terminal_id: str, version: int, status: str,
                      detail: str | None = None) -> bool:
        """Tell the back office what became of a configuration version."""
        body = self._post(f"/v1/terminals/{quote(terminal_id)}/config/{version}/status",
                          {"status": status, "detail": detail})
        return isinstance(body, dict)


@dataclass(frozen=True)
class CheckIn:
    reachable: bool
    status: int | None  # 200: our credential is good; 401: refused (revoked, wrong)
    round_trip_s: float | None = None
    server_time: float | None = None  # the back office's clock, mid-way through the trip
    terminal_id: str | None = None  # whose credential ours is (None: a fleet token)
    detail: str = ""


class EnrolmentRefused(Exception):
    """The back office would not enrol us; the message says why, in its words."""


def enrol(base_url: str, enrolment_token: str, terminal_id: str, audit_public_key: str,
          timeout_s: float = 15.0, verify: bool | str = True) -> dict[str, str]:
    """Trade a one-time enrolment token for the terminal's credential, the citizen-hash key
    and the QR-token public key. EnrolmentRefused says why not (unreachable, refused, or an
    answer off the contract). The token goes in the body, never in a URL or a log."""
    import requests

    url = base_url.rstrip("/") + "/v1/enrolments"
    try:
        r = requests.post(url, json={"enrolment_token": enrolment_token,
                                     "terminal_id": terminal_id,
                                     "audit_public_key": audit_public_key},
                          timeout=timeout_s, verify=verify)
    except requests.RequestException as e:
        raise EnrolmentRefused(f"the back office at {base_url} cannot be reached "
                               f"({type(e).__name__})") from e
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code != 201:
        why = body.get("error") if isinstance(body, dict) else None
        raise EnrolmentRefused(f"the back office refused (HTTP {r.status_code}): "
                               f"{why or 'no reason given'}")
    wanted = ("credential", "citizen_hash_key", "qr_public_key")
    if not isinstance(body, dict) or any(not isinstance(body.get(k), str) or not body[k]
                                         for k in wanted):
        raise EnrolmentRefused("the back office's answer lacks " + ", ".join(wanted))
    key = body["citizen_hash_key"]
    if len(key) < 64 or any(c not in "0123456789abcdef" for c in key.lower()):
        raise EnrolmentRefused("the back office's citizen-hash key is not 32 bytes of hex")
    if "BEGIN PUBLIC KEY" not in body["qr_public_key"]:
        raise EnrolmentRefused("the back office's QR-token key is not a PEM public key")
    return {k: body[k] for k in wanted}
