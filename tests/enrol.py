"""Tests' stand-in for enrolment: what TerminalOptions needs to be let in by a reference back
office (its token and citizen-hash key, copied into the terminal's directory), or, with no
back office, a citizen-hash key of the terminal's own."""

from __future__ import annotations

from pathlib import Path

from backoffice import RunningBackOffice
from kiosk.demo.enrolment import TOKEN_FILE, BackOfficeAccess
from kiosk.records.citizen_key import FILE_NAME, CitizenKey


def access(bo: RunningBackOffice) -> BackOfficeAccess:
    return BackOfficeAccess.of(bo)


def enrol(data_dir: Path, bo: RunningBackOffice | None = None) -> dict[str, str | None]:
    """TerminalOptions' token_file and citizen_key_file for a terminal at data_dir: those of
    `bo`, or those it was enrolled with before (else a key of its own)."""
    if bo is not None:
        token, key = access(bo).enrol(data_dir)
        return {"token_file": token, "citizen_key_file": key}
    data_dir.mkdir(parents=True, exist_ok=True)
    path, token = data_dir / FILE_NAME, data_dir / TOKEN_FILE
    if not path.exists():
        CitizenKey.random().write(path)
    return {"token_file": str(token) if token.exists() else None, "citizen_key_file": str(path)}
