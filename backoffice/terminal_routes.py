"""HTTP routes for terminals and their operator (backoffice/terminals.py holds the records).

Who may call what:
- anyone: `POST /v1/enrolments` (the enrolment token in the body is the proof);
- the operator (operator.token): enrolment tokens, revoking a terminal, offering
  configuration, reading terminals, heartbeats and configuration history;
- a terminal (its enrolled credential, or the fleet token): `GET /v1/whoami`,
  `POST /v1/heartbeats`, `GET /v1/terminals/{id}/config`,
  `POST /v1/terminals/{id}/config/{version}/status`. A terminal with a credential speaks for
  itself only.
"""

from __future__ import annotations

import hmac
import math
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from backoffice.terminals import CONFIG_STATUSES, terminal_id_problem

if TYPE_CHECKING:
    from backoffice.server import _Handler

PUBLIC = frozenset({"/v1/enrolments"})
# What `handle` answers, as the contract (docs/backoffice-openapi.json) writes the paths.
ROUTES = ("/v1/enrolments", "/v1/enrolment-tokens", "/v1/enrolment-tokens/revoke", "/v1/whoami",
          "/v1/heartbeats", "/v1/terminals", "/v1/terminals/{terminal_id}/revoke",
          "/v1/terminals/{terminal_id}/heartbeats", "/v1/terminals/{terminal_id}/config",
          "/v1/terminals/{terminal_id}/config/history",
          "/v1/terminals/{terminal_id}/config/{version}/status")
_TERMINAL_PATH = re.compile(r"/v1/terminals/([A-Z0-9-]{3,32})(/.*)?")
_STATUS_PATH = re.compile(r"/config/([0-9]{1,9})/status")
_MAX_PROFILE_BYTES = 256 * 1024


def bearer(handler: _Handler) -> str:
    given = handler.headers.get("Authorization", "")
    return given.removeprefix("Bearer ") if given.startswith("Bearer ") else ""


def is_operator(handler: _Handler) -> bool:
    token = bearer(handler)
    return bool(token) and hmac.compare_digest(
        token.encode(), handler.server.secrets.operator_token.encode())


def credential_terminal(handler: _Handler) -> str | None:
    """The enrolled terminal the request's credential is, or None."""
    token = bearer(handler)
    return handler.server.store.terminals.terminal_of(token) if token else None


def operator_only(method: str, path: str) -> bool:
    if path.startswith("/v1/enrolment-tokens") or path == "/v1/terminals":
        return True
    match = _TERMINAL_PATH.fullmatch(path)
    if match is None:
        return False
    rest = match.group(2) or ""
    if method == "get" and rest == "/config":
        return False  # the terminal pulls its own
    return not (method == "post" and _STATUS_PATH.fullmatch(rest))


def handle(handler: _Handler, method: str) -> bool:
    """Answer the request when it is one of these routes; False when it is not."""
    path = urlsplit(handler.path).path
    if method == "post" and path == "/v1/enrolments":
        _enrol(handler)
    elif method == "post" and path == "/v1/enrolment-tokens":
        _issue_token(handler)
    elif method == "post" and path == "/v1/enrolment-tokens/revoke":
        _revoke_token(handler)
    elif method == "get" and path == "/v1/whoami":
        handler._send(200, {"terminal_id": handler.terminal_id,
                            "server_time": handler.server.store.terminals.now()})
    elif method == "post" and path == "/v1/heartbeats":
        _heartbeat(handler)
    elif method == "get" and path == "/v1/terminals":
        handler._send(200, {"terminals": handler.server.store.terminals.terminals()})
    elif (match := _TERMINAL_PATH.fullmatch(path)) is not None:
        return _terminal(handler, method, unquote(match.group(1)), match.group(2) or "")
    else:
        return False
    return True


def _terminal(handler: _Handler, method: str, terminal_id: str, rest: str) -> bool:
    office = handler.server.store.terminals
    if not _speaks_for(handler, terminal_id):
        return True
    if method == "post" and rest == "/revoke":
        handler._send(200 if office.revoke_terminal(terminal_id) else 404,
                      {"terminal_id": terminal_id})
    elif method == "get" and rest == "/heartbeats":
        query = parse_qs(urlsplit(handler.path).query)
        limit = query.get("limit", ["100"])[0]
        handler._send(200, {"heartbeats": office.heartbeats(
            terminal_id, int(limit) if limit.isdigit() and 0 < int(limit) <= 1000 else 100)})
    elif method == "post" and rest == "/config":
        _offer_config(handler, terminal_id)
    elif method == "get" and rest == "/config":
        offered = office.config(terminal_id)
        if offered is None:
            handler._send(404, {"error": "no configuration offered to this terminal"})
        else:
            handler._send(200, offered)
    elif method == "get" and rest == "/config/history":
        handler._send(200, {"history": office.config_history(terminal_id)})
    elif method == "post" and (match := _STATUS_PATH.fullmatch(rest)) is not None:
        _config_status(handler, terminal_id, int(match.group(1)))
    else:
        return False
    return True


def _speaks_for(handler: _Handler, terminal_id: str) -> bool:
    """A terminal's credential answers for its own id only (a 403 has been sent if not)."""
    own = handler.terminal_id
    if own is not None and own != terminal_id:
        handler._send(403, {"error": f"this credential is terminal {own}'s"})
        return False
    return True


def _issue_token(handler: _Handler) -> None:
    doc = handler._json_object()
    if doc is None:
        return
    problem = terminal_id_problem(doc.get("terminal_id"))
    valid_s = doc.get("valid_s", 24 * 3600)
    if problem is None and (isinstance(valid_s, bool) or not isinstance(valid_s, int | float)
                            or not math.isfinite(valid_s) or not 60 <= valid_s <= 30 * 86400):
        problem = "field 'valid_s' must be seconds, 60 to 30 days"
    if problem is not None:
        handler._send(400, {"error": problem})
        return
    handler._send(201, handler.server.store.terminals.issue_token(
        str(doc["terminal_id"]), float(valid_s)))


def _revoke_token(handler: _Handler) -> None:
    doc = handler._json_object()
    if doc is None:
        return
    token = doc.get("token")
    if not isinstance(token, str) or not token:
        handler._send(400, {"error": "field 'token' must be the enrolment token"})
        return
    revoked = handler.server.store.terminals.revoke_token(token)
    handler._send(200 if revoked else 404, {"revoked": revoked})


def _enrol(handler: _Handler) -> None:
    doc = handler._json_object()
    if doc is None:
        return
    token, key = doc.get("enrolment_token"), doc.get("audit_public_key")
    problem = terminal_id_problem(doc.get("terminal_id"))
    if problem is None and (not isinstance(token, str) or not token):
        problem = "field 'enrolment_token' must be the token the operator issued"
    if problem is None and key is not None and not _ed25519_pem(key):
        problem = "field 'audit_public_key' must be an Ed25519 public key (PEM)"
    if problem is not None:
        handler._send(400, {"error": problem})
        return
    server = handler.server
    terminal_id = str(doc["terminal_id"])
    outcome, detail = server.store.terminals.enrol(str(token), terminal_id)
    if outcome == "refused":
        handler._send(403, {"error": detail})
        return
    if key is not None:  # its audit checkpoints are checked against it from now on
        server.store.audit_checkpoints.register_key(terminal_id, str(key))
    handler._send(201, {
        "terminal_id": terminal_id, "credential": detail,
        "citizen_hash_key": server.secrets.citizen_key_hex,
        "qr_public_key": server.qr.public_key_pem().decode("ascii"),
    })


def _ed25519_pem(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 4096:
        return False
    try:
        key = serialization.load_pem_public_key(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return isinstance(key, Ed25519PublicKey)


def _heartbeat(handler: _Handler) -> None:
    doc = handler._json_object()
    if doc is None:
        return
    problem = terminal_id_problem(doc.get("terminal_id"))
    if problem is None and not isinstance(doc.get("devices", {}), dict):
        problem = "field 'devices' must be an object of device name to status"
    if problem is not None:
        handler._send(400, {"error": problem})
        return
    terminal_id = str(doc["terminal_id"])
    if not _speaks_for(handler, terminal_id):
        return
    handler._send(200, handler.server.store.terminals.heartbeat(terminal_id, doc))


def _offer_config(handler: _Handler, terminal_id: str) -> None:
    doc = handler._json_object()
    if doc is None:
        return
    profile = doc.get("profile")
    if not isinstance(profile, dict) or len(str(profile)) > _MAX_PROFILE_BYTES:
        handler._send(400, {"error": "field 'profile' must be a profile as a JSON object"})
        return
    # The terminal validates it; the back office only sees that it names this terminal.
    named = (profile.get("terminal") or {}).get("id") if isinstance(
        profile.get("terminal"), dict) else None
    if named is not None and named != terminal_id:
        handler._send(400, {"error": f"the profile is terminal {named}'s, not {terminal_id}'s"})
        return
    version = handler.server.store.terminals.offer_config(terminal_id, profile)
    handler._send(201, {"terminal_id": terminal_id, "version": version})


def _config_status(handler: _Handler, terminal_id: str, version: int) -> None:
    doc = handler._json_object()
    if doc is None:
        return
    status, detail = doc.get("status"), doc.get("detail")
    if status not in CONFIG_STATUSES[1:]:
        handler._send(400, {"error": f"field 'status' must be one of {CONFIG_STATUSES[1:]}"})
        return
    if detail is not None and (not isinstance(detail, str) or len(detail) > 2000):
        handler._send(400, {"error": "field 'detail' must be a text of up to 2000 characters"})
        return
    found = handler.server.store.terminals.config_status(terminal_id, version, str(status),
                                                         detail)
    if not found:
        handler._send(404, {"error": f"version {version} was never offered to {terminal_id}"})
    else:
        handler._send(200, {"terminal_id": terminal_id, "version": version, "status": status})

