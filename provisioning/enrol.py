"""Enrolment, the terminal's side: the one-time token traded for the terminal's credential,
the citizen-hash key and the QR-token public key (kiosk/ops/backoffice_client.py `enrol`),
kept by kiosk/records/enrolment.py, then proven by asking the back office who we are with
the new credential."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.config.errors import ConfigError
from kiosk.config.profile import load_profile
from kiosk.ops.backoffice_client import BackOfficeClient, EnrolmentRefused, enrol
from kiosk.records.audit import AuditLog
from kiosk.records.audit_keys import load_or_create_signing_key, public_key_pem
from kiosk.records.dir_lock import DataDirLock
from kiosk.records.enrolment import EnrolmentFiles


class EnrolmentError(Exception):
    """Enrolment did not happen; the message says why and what to do."""


def enrol_terminal(config: Path, data_dir: Path, backoffice_url: str,
                   token: str) -> dict[str, Any]:
    try:
        profile = load_profile(config)
    except ConfigError as e:
        raise EnrolmentError(str(e)) from e
    named = (profile.backoffice.url or "").rstrip("/")
    if named and named != backoffice_url.rstrip("/"):
        raise EnrolmentError(
            f"{config} names the back office {named}, not {backoffice_url}: enrol with that "
            "one, or change the profile (kiosk provision configure --backoffice-url)")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        data_dir.chmod(0o700)
        held = DataDirLock(data_dir)
    except (OSError, ConfigError) as e:
        raise EnrolmentError(f"{data_dir}: {e} (stop the kiosk before enrolling it)") from e
    try:
        files = EnrolmentFiles.of(profile, data_dir)
        before = files.read_record()
        key = load_or_create_signing_key(data_dir)
        verify = profile.backoffice.tls_verify
        # The token is spent (and the old credential dead) the moment the back office
        # answers: first make sure what it gives can be kept.
        problem = files.unwritable()
        if problem is not None:
            raise EnrolmentError(f"{problem}; nothing was sent, the token is still good")
        try:
            given = enrol(backoffice_url, token, profile.terminal.id, public_key_pem(key),
                          verify=verify)
        except EnrolmentRefused as e:
            raise EnrolmentError(f"{e}; ask the operator for a new enrolment token") from e
        try:
            record = files.save(credential=given["credential"],
                                citizen_key_hex=given["citizen_hash_key"],
                                qr_public_key=given["qr_public_key"],
                                terminal_id=profile.terminal.id,
                                backoffice_url=backoffice_url)
        except OSError as e:
            raise EnrolmentError(f"enrolled, but the credential cannot be kept: {e}; free "
                                 "the disk and ask the operator for a new token") from e
        check = BackOfficeClient(backoffice_url, token=given["credential"],
                                 verify=verify).check_in()
        if check.status != 200 or check.terminal_id != profile.terminal.id:
            raise EnrolmentError(
                "enrolled and kept, but the back office does not take the new credential yet "
                f"({'HTTP ' + str(check.status) if check.reachable else check.detail}); run "
                "kiosk provision selftest")
        audit = AuditLog(data_dir / "audit.jsonl")
        try:
            audit.record("terminal_enrolled", terminal_id=profile.terminal.id,
                         backoffice=backoffice_url,
                         credential=record["credential_fingerprint"],
                         rotated=before is not None)
        finally:
            audit.close()
    finally:
        held.release()
    return {**record, "rotated": before is not None,
            "files": [str(files.token), str(files.citizen_key), str(files.qr_key)]}
