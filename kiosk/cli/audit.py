"""`kiosk audit ...`: the audit log's chain, checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="The kiosk's data directory.")]
DEFAULT_DIR = Path("/var/lib/kiosk")
LOG_FILE = "audit.jsonl"


def _fail(message: str) -> None:
    typer.echo(f"kiosk audit verify: {message}", err=True)
    raise typer.Exit(2)


def _log_dir(data_dir: Path) -> Path:
    """The directory of the audit log: the data dir, or the kiosk/ of a demo's or a
    simulation's directory."""
    for d in (data_dir, data_dir / "kiosk"):
        if any(d.glob(f"{LOG_FILE}*")):
            return d
    _fail(f"{data_dir}: no audit log here (looked for {LOG_FILE} and kiosk/{LOG_FILE})")
    raise AssertionError  # unreachable: _fail() exits


def _held_by_backoffice(where: Path) -> list[tuple[int, str]]:
    """(signed seq, signed hash) of every checkpoint the back office holds for us."""
    from kiosk.ops.backoffice_client import BackOfficeClient
    from kiosk.records.enrolment import RECORD_FILE

    try:
        record = json.loads((where / RECORD_FILE).read_text(encoding="utf-8"))
        token = Path(record["token_file"]).read_text(encoding="utf-8").strip()
        url, terminal = str(record["backoffice_url"]), str(record["terminal_id"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        _fail(f"{where}: no usable enrolment record ({e}): enrol first "
              "(kiosk provision enroll)")
        raise AssertionError from e  # unreachable
    held = BackOfficeClient(url, token=token).audit_checkpoints(terminal)
    if held is None:
        _fail(f"the back office at {url} did not give its checkpoints (see the log above)")
    assert held is not None
    return held


@audit_app.command()
def verify(
    data_dir: DataDir = DEFAULT_DIR,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Check the checkpoints against this PEM public key (e.g. the one "
        "the back office was given at enrolment) instead of the data directory's "
        "audit-signing.key.")] = None,
    against_backoffice: Annotated[bool, typer.Option(
        "--against-backoffice", help="Also compare with the checkpoints the back office holds "
        "(the one the terminal enrolled with): finds a log cut off or rewritten since it was "
        "signed, which the disk alone cannot show.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Check the audit log: every record's hash, every link of the chain across its rotated
    segments, every checkpoint's signature. Exit 0 only when the chain is intact; 1 with each
    problem and where it is (file, line, seq); 2 when there is nothing to check. A log that
    ends with a line cut short (a crash or a power cut mid-write, or a truncation) fails as
    `torn_tail` until the terminal next opens its log and notes it; then it is a note."""
    from kiosk.records.audit_keys import KEY_FILE, load_public_key
    from kiosk.records.audit_verify import verify_log

    where = _log_dir(data_dir)
    key_file = public_key or where / KEY_FILE
    key = None
    if public_key is not None or key_file.exists():
        try:
            key = load_public_key(key_file.read_bytes())
        except OSError as e:
            _fail(f"{key_file}: cannot be read: {e.strerror}")
        except ValueError as e:
            _fail(f"{key_file}: not an Ed25519 key in PEM ({e})")
    held = _held_by_backoffice(where) if against_backoffice else None
    try:
        report = verify_log(where / LOG_FILE, key, held)
    except OSError as e:
        _fail(f"{where}: the audit log cannot be read: {e.strerror}")
    if json_out:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for problem in report.problems:
            typer.echo(str(problem))
        for note in report.notes:
            typer.echo(f"note: {note}")
        verdict = "intact" if report.ok else f"{len(report.problems)} problem(s)"
        typer.echo(f"{report.records} records in {len(report.segments)} file(s), "
                   f"{report.checkpoints} signed checkpoint(s): {verdict}")
    if not report.ok:
        raise typer.Exit(1)
