"""Reference back office over HTTP (stdlib only): the contract the kiosk's HttpTransport speaks."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from backoffice import terminal_routes
from backoffice.calls import STATUSES as CALL_STATUSES
from backoffice.calls import staff_problem
from backoffice.certificates import (
    PRINTED_EVENT,
    CertificateOffice,
    NotEligible,
    printed_serial,
)
from backoffice.connections import BoundedHandler, BoundedHTTPServer, Limits
from backoffice.db import Databases
from backoffice.faces import (
    BadImage,
    FaceMatcher,
    FaceVerificationUnavailable,
    PhotosOnFile,
    settle_deferred_face_check,
)
from backoffice.lockers import COLLECTED_EVENT, LOADED_EVENT, RETRIEVED_EVENT, LockerOffice
from backoffice.qr_tokens import QrIssuer
from backoffice.ratings import FOLLOWUP_STATUSES, note_problem
from backoffice.secrets import BackOfficeSecrets
from backoffice.store import ACCEPTED, REJECTED, BackOfficeStore, parse_batch, parse_json
from backoffice.tellers import credentials_problem

log = logging.getLogger(__name__)

DB_FILE = "backoffice.sqlite3"
# Answered to anyone: the health check, the QR public key, and (with /v1/verify/{serial})
# checking a certificate's verification code. Everything else needs a terminal's token.
PUBLIC = frozenset({"/v1/health", "/v1/qr-public-key"})
FOLLOWUP_ID = re.compile(r"[0-9]{1,18}")  # a BIGINT: a longer one is no follow-up's


class BackOfficeHTTPServer(BoundedHTTPServer):
    def __init__(self, addr: tuple[str, int], store: BackOfficeStore,
                 secrets: BackOfficeSecrets, qr: QrIssuer, certificates: CertificateOffice,
                 lockers: LockerOffice, faces: FaceMatcher | None = None,
                 limits: Limits | None = None, databases: Databases | None = None) -> None:
        self.databases = databases
        self.store = store
        self.certificates = certificates
        self.lockers = lockers
        self.secrets = secrets
        self.token = secrets.token
        self.qr = qr
        self.faces = faces or FaceMatcher()
        self.photos = PhotosOnFile(self.faces)
        super().__init__(addr, _Handler, limits)

    def close(self) -> None:
        """Cut kept-alive connections, let the workers finish, close the stores."""
        super().close()
        if self.databases is not None:
            self.databases.close()


class _Handler(BoundedHandler):
    server: BackOfficeHTTPServer

    terminal_id: str | None = None  # the enrolled terminal whose credential came with it

    def _authorized(self, method: str) -> bool:
        """Public paths for anyone; the operator's for its token; the rest for the fleet
        token, an enrolled terminal's credential or the operator."""
        path = urlsplit(self.path).path
        self.terminal_id = None
        if path in PUBLIC or path in terminal_routes.PUBLIC or path.startswith("/v1/verify/"):
            return True
        if terminal_routes.is_operator(self):
            return True
        if terminal_routes.operator_only(method, path):
            return False
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {self.server.token}".encode()):
            return True
        self.terminal_id = terminal_routes.credential_terminal(self)
        return self.terminal_id is not None

    def _guard(self, method: str) -> bool:
        if self._authorized(method):
            return True
        self._send(401, {"error": "missing, wrong or revoked bearer token"}, close=True)
        return False

    def _dispatch(self, method: str) -> None:
        if method == "get":
            self.server.reading(self.connection, False)
        try:
            if self._guard(method) and not terminal_routes.handle(self, method):
                getattr(self, f"_{method}")()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("back office failed on %s %s", method, self.path)
            self._send(500, {"error": "internal error"}, close=True)

    def do_GET(self) -> None:
        self._dispatch("get")

    def do_POST(self) -> None:
        self._dispatch("post")

    # -- endpoints -------------------------------------------------------------------------

    def _get(self) -> None:
        url = urlsplit(self.path)
        store = self.server.store
        if url.path == "/v1/health":
            self._send(200, {"ok": True})
        elif url.path == "/v1/stats":
            self._send(200, store.counts())
        elif url.path == "/v1/applications":
            hashes = parse_qs(url.query).get("citizen_hash")
            if not hashes:
                self._send(400, {"error": "query parameter citizen_hash is required"})
                return
            self._send(200, {"applications": store.applications_for(hashes[0])})
        elif url.path.startswith("/v1/applications/") and url.path.endswith("/assignee"):
            number = store.assignee(unquote(url.path.removeprefix("/v1/applications/")
                                            .removesuffix("/assignee")))
            if number is None:
                self._send(404, {"error": "unknown tracking number"})
            else:
                self._send(200, {"id_number": number})
        elif url.path.startswith("/v1/applications/"):
            app = store.application(unquote(url.path.removeprefix("/v1/applications/")))
            if app is None:
                self._send(404, {"error": "unknown tracking number"})
            else:
                self._send(200, app)
        elif url.path == "/v1/envelopes":
            self._send(405, {"error": "use POST"})
        elif url.path.startswith("/v1/verify/"):
            serial = unquote(url.path.removeprefix("/v1/verify/"))
            code = (parse_qs(url.query).get("code") or [""])[0]
            self._send(200, self.server.certificates.verify(serial, code))
        elif url.path.startswith("/v1/lockers/") and url.path.endswith("/pickup-codes"):
            terminal = unquote(url.path.removeprefix("/v1/lockers/")
                               .removesuffix("/pickup-codes"))
            self._send(200, {"pickup_codes": self.server.lockers.codes_for(terminal)})
        elif url.path == "/v1/pickup-notices":
            number = (parse_qs(url.query).get("application_no") or [""])[0]
            notice = self.server.lockers.notice(number) if number else None
            if not number:
                self._send(400, {"error": "query parameter application_no is required"})
            elif notice is None:
                self._send(404, {"error": "no pickup notice for this application"})
            else:
                self._send(200, notice)
        elif url.path == "/v1/qr-public-key":
            self._send(200, {"public_key_pem": self.server.qr.public_key_pem().decode()})
        elif url.path == "/v1/ratings":
            of_terminal = _first(url.query, "terminal_id")
            self._send(200, {"ratings": store.ratings.ratings(of_terminal),
                             "summary": store.ratings.summary(of_terminal)})
        elif url.path == "/v1/calls":
            wanted = _first(url.query, "status") or "open"
            if wanted not in (*CALL_STATUSES, "all"):
                self._send(400, {"error": "query parameter status must be open, taken or all"})
                return
            self._send(200, {"calls": store.calls.calls(None if wanted == "all" else wanted)})
        elif url.path.startswith("/v1/calls/"):
            call = store.calls.call(unquote(url.path.removeprefix("/v1/calls/")))
            if call is None:
                self._send(404, {"error": "unknown call (not received yet, or never made)"})
            else:
                self._send(200, call)
        elif url.path == "/v1/audit-checkpoints":
            asked = _first(url.query, "terminal")
            if not asked:
                self._send(400, {"error": "query parameter terminal is required"})
                return
            self._send(200, {"terminal_id": asked,
                             "checkpoints": store.audit_checkpoints.checkpoints(asked)})
        elif url.path == "/v1/followups":
            status = _first(url.query, "status")
            if status is not None and status not in FOLLOWUP_STATUSES:
                self._send(400, {"error": "query parameter status must be open or closed"})
                return
            self._send(200, {"followups": store.ratings.followups(status)})
        else:
            self._send(404, {"error": "not found"})

    def _post(self) -> None:
        path = urlsplit(self.path).path
        endpoint = {
            "/v1/qr-tokens": self._issue_qr_token,
            "/v1/face-verifications": self._verify_face,
            "/v1/photos-on-file": self._put_photo_on_file,
            "/v1/certificates": self._issue_certificate,
            "/v1/residents": self._register_resident,
            "/v1/tellers": self._register_teller,
            "/v1/teller-sign-ons": self._check_teller,
        }.get(path)
        if endpoint is not None:
            endpoint()
            return
        if path.startswith("/v1/calls/") and path.endswith("/take"):
            self._take_call(unquote(path.removeprefix("/v1/calls/").removesuffix("/take")))
            return
        if path.startswith("/v1/followups/") and path.endswith("/close"):
            self._close_followup(unquote(path.removeprefix("/v1/followups/")
                                         .removesuffix("/close")))
            return
        if path != "/v1/envelopes":
            self._send(404, {"error": "not found"}, close=True)
            return
        raw = self._read_body()
        if raw is None:
            return
        try:
            envelopes = parse_batch(raw)
        except ValueError as exc:
            self._send(400, {"error": str(exc)})
            return
        decoded: list[tuple[str, str, bytes] | None] = []
        for key, kind, payload_b64 in envelopes:
            try:
                payload = base64.b64decode(payload_b64, validate=True)
            except (binascii.Error, ValueError):
                decoded.append(None)
                continue
            decoded.append((key, kind, settle_deferred_face_check(
                kind, payload, self.server.faces, self.server.photos)))
        stored = iter(self.server.store.accept_many([d for d in decoded if d is not None]))
        results = []
        for (key, _, _), item in zip(envelopes, decoded, strict=True):
            status, detail = (REJECTED, "payload_b64 is not valid base64") if item is None \
                else next(stored)
            if item is not None and status == ACCEPTED:
                self._on_event(item[1], item[2])
            results.append({"idempotency_key": key, "status": status, "detail": detail})
        self._send(200, {"results": results})

    def _close_followup(self, followup_id: str) -> None:
        """Staff handled a bad rating's follow-up: closed once, with what they did."""
        doc = self._json_object()
        if doc is None:
            return
        problem = note_problem(doc.get("note"))
        if problem is not None:
            self._send(400, {"error": problem})
            return
        outcome, record = self.server.store.ratings.close(int(followup_id), str(doc["note"])) \
            if FOLLOWUP_ID.fullmatch(followup_id) else ("unknown", None)
        if outcome == "unknown":
            self._send(404, {"error": "unknown follow-up"})
        elif outcome == "already_closed":
            self._send(409, {"error": f"follow-up {followup_id} is closed already"})
        else:
            self._send(200, record)

    def _take_call(self, key: str) -> None:
        """A member of staff takes a call for help: once; a second is told who has it."""
        doc = self._json_object()
        if doc is None:
            return
        problem = staff_problem(doc.get("staff"))
        if problem is not None:
            self._send(400, {"error": problem})
            return
        outcome, record = self.server.store.calls.take(key, str(doc["staff"]))
        if outcome == "unknown":
            self._send(404, {"error": "unknown call"})
        elif outcome == "already_taken":
            assert record is not None
            self._send(409, {"error": f"taken already, by {record['taken_by']}", **record})
        else:
            self._send(200, record)

    def _on_event(self, kind: str, payload: bytes) -> None:
        """What a terminal's event changes here, once (the first time it is accepted)."""
        if kind == PRINTED_EVENT:
            serial = printed_serial(payload)
            if serial is not None:
                self.server.certificates.mark_printed(serial)
        elif kind in (LOADED_EVENT, COLLECTED_EVENT, RETRIEVED_EVENT):
            self.server.lockers.on_event(kind, payload)

    def _json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None once a 400 has been sent."""
        raw = self._read_body()
        if raw is None:
            return None
        try:
            doc = parse_json(raw)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            self._send(400, {"error": "body must be a JSON object"})
            return None
        return doc

    def _image_field(self, doc: dict[str, Any], name: str, *, optional: bool = False
                     ) -> tuple[bool, bytes | None]:
        """(ok, bytes) of a base64 image field; a 400 naming the field has been sent when not ok."""
        value = doc.get(name)
        if value is None and optional:
            return True, None
        if isinstance(value, str):
            try:
                return True, base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                pass
        self._send(400, {"error": f"field {name!r} must be a base64 image"})
        return False, None

    def _document_request(self) -> tuple[dict[str, Any] | None, str]:
        """A JSON object naming a document_number, or (None, "") once a 400 has been sent."""
        doc = self._json_object()
        if doc is None:
            return None, ""
        number = doc.get("document_number")
        if not isinstance(number, str) or not number.strip():
            self._send(400, {"error": "field 'document_number' must be a non-empty string"})
            return None, ""
        return doc, number

    def _verify_face(self) -> None:
        """Is the face in the terminal's frame the document's? Against the document's own
        photo when sent (a passport's DG2), else the photo on file for its number."""
        doc, number = self._document_request()
        if doc is None:
            return
        ok, live = self._image_field(doc, "live_frame_b64")
        if not ok:
            return
        ok, photo = self._image_field(doc, "document_photo_b64", optional=True)
        if not ok:
            return
        assert live is not None
        reference = photo if photo is not None else self.server.photos.get(number)
        with self._face_errors():
            verdict = self.server.faces.verify(reference, live)
            log.info("face verification: %s (distance %s)", verdict.decision, verdict.distance)
            self._send(200, verdict.as_dict())

    @contextlib.contextmanager
    def _face_errors(self) -> Iterator[None]:
        try:
            yield
        except BadImage as e:
            self._send(400, {"error": f"an image could not be decoded: {e}"})
        except FaceVerificationUnavailable as e:
            self._send(503, {"error": str(e)})

    def _put_photo_on_file(self) -> None:
        """The registry's photo of a document's holder (the demo and tests put them here)."""
        doc, number = self._document_request()
        if doc is None:
            return
        ok, photo = self._image_field(doc, "photo_b64")
        if not ok or photo is None:
            return
        with self._face_errors():
            if self.server.photos.put(number, photo):
                self._send(200, {"document_number": number, "on_file": True})
            else:
                self._send(400, {"error": "the photo shows no face"})

    def _issue_certificate(self) -> None:
        """Issue (or give again, by tracking number) a certificate to a resident."""
        doc = self._json_object()
        if doc is None:
            return
        citizen = doc.get("citizen")
        fields = {"service_id": doc.get("service_id"), "tracking_no": doc.get("tracking_no"),
                  "citizen.id_number": citizen.get("id_number") if isinstance(citizen, dict)
                  else None, "citizen.name": citizen.get("name") if isinstance(citizen, dict)
                  else None}
        bad = [k for k, v in fields.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            self._send(400, {"error": f"field {bad[0]!r} must be a non-empty string"})
            return
        values = [str(v) for v in fields.values()]
        try:
            certificate = self.server.certificates.issue(*values)
        except NotEligible as e:
            self._send(422, {"error": "not_eligible", "reason": e.code, "message": str(e)})
            return
        except ValueError as e:
            self._send(400, {"error": str(e)})
            return
        self._send(200, certificate.as_dict())

    def _register_resident(self) -> None:
        """Put a resident on the register (the stand-in for the household register)."""
        doc = self._json_object()
        if doc is None:
            return
        number, district = doc.get("id_number"), doc.get("district")
        if not isinstance(number, str) or not number.strip() or not isinstance(district, str):
            self._send(400, {"error": "fields 'id_number' and 'district' must be strings"})
            return
        self.server.certificates.register(number, district)
        self._send(200, {"registered": True})

    def _register_teller(self) -> None:
        """Put a teller on the stand-in bank directory (or give them a new password)."""
        doc = self._json_object()
        if doc is None:
            return
        problem = credentials_problem(doc)
        if problem is not None:
            self._send(400, {"error": problem})
            return
        self.server.store.tellers.register(doc["teller"], doc["password"])
        self._send(200, {"registered": True})

    def _check_teller(self) -> None:
        """A terminal asks whether this teller and password sign on (yes or no, nothing more)."""
        doc = self._json_object()
        if doc is None:
            return
        problem = credentials_problem(doc)
        ok = problem is None and self.server.store.tellers.check(doc["teller"], doc["password"])
        self._send(200, {"ok": bool(ok)})

    def _issue_qr_token(self) -> None:
        """The government app's side, for the demo and tests: a citizen's identity QR."""
        raw = self._read_body()
        if raw is None:
            return
        try:
            doc = parse_json(raw)
        except ValueError:
            doc = None
        fields = ("id", "name", "sex", "birth")
        if not isinstance(doc, dict) or not all(isinstance(doc.get(f, ""), str) for f in fields) \
                or not doc.get("id") or not doc.get("name"):
            self._send(400, {"error": "body must be an object with string id and name "
                                      "(sex, birth optional)"})
            return
        token, expires = self.server.qr.issue({f: doc.get(f, "") for f in fields})
        self._send(200, {"token": token, "expires_at": expires})


def _first(query: str, name: str) -> str | None:
    """A query parameter's first value; None when it is absent or blank."""
    values = parse_qs(query).get(name)
    return values[0] if values else None
