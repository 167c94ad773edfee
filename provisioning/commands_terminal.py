"""`kiosk provision enroll` and `kiosk provision selftest`: the terminal's place with its back
office, and the proof that it is ready."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

ConfigOpt = Annotated[Path, typer.Option("--config", help="The terminal's profile (TOML).")]
DataDirOpt = Annotated[Path, typer.Option("--data-dir", help="Where the terminal keeps state.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DEFAULT_CONFIG = Path("/etc/kiosk/terminal.toml")
DEFAULT_DATA = Path("/var/lib/kiosk")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"kiosk provision: {message}", err=True)
    raise typer.Exit(code)


def enroll(
    backoffice: Annotated[str, typer.Option("--backoffice", help="The back office's URL.")],
    token: Annotated[str | None, typer.Option(
        "--token", help="The one-time enrolment token from the back office's operator "
        "('-': read it from standard input; left out: asked for, not echoed).")] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    data_dir: DataDirOpt = DEFAULT_DATA,
    json_out: JsonOpt = False,
) -> None:
    """Enrol this terminal once with its back office: trade the enrolment token for the
    terminal's credential, the citizen-hash key and the QR-token public key, kept 0600 where
    the profile says (else in the data directory). Enrolling again rotates them. No secret is
    printed or logged."""
    from provisioning.enrol import EnrolmentError, enrol_terminal

    if token == "-":
        token = sys.stdin.readline().strip()
    elif token is None:
        token = typer.prompt("Enrolment token", hide_input=True).strip()
    if not token:
        _fail("no enrolment token given")
    try:
        done = enrol_terminal(config, data_dir, backoffice, token)
    except EnrolmentError as e:
        _fail(str(e), 1)
    if json_out:
        typer.echo(json.dumps(done, ensure_ascii=False))
        return
    typer.echo(f"enrolled {done['terminal_id']} with {done['backoffice_url']} (credential "
               f"{done['credential_fingerprint']}…, {'rotated' if done['rotated'] else 'new'})"
               f"; kept in {', '.join(done['files'])}")
    typer.echo("next: kiosk provision selftest --config " f"{config} --data-dir {data_dir}")


def selftest(
    config: ConfigOpt = DEFAULT_CONFIG,
    data_dir: DataDirOpt = DEFAULT_DATA,
    json_out: JsonOpt = False,
    door: Annotated[int | None, typer.Option(
        "--door", min=1, help="Open and close this compartment (asked first).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Answer yes to every question.")] = False,
    receipt: Annotated[bool, typer.Option(help="Print the summary on the receipt printer."
                                          )] = True,
) -> None:
    """Exercise every configured device and check disk, clock, back office, credential,
    outbox and enrolment; keep the readiness report (readiness.json in the data directory)
    and print its summary on the receipt printer. Exit 0 only when every item passes."""
    from provisioning.selftest_run import SelfTestError, run_selftest

    def confirm(question: str) -> bool:
        if yes:
            return True
        if json_out or not sys.stdin.isatty():
            return False  # nobody to ask: no door opens
        return typer.confirm(question, default=False, err=True)

    try:
        report, path, summary = run_selftest(config, data_dir, confirm=confirm, door=door,
                                             progress=not json_out, print_receipt=receipt)
    except SelfTestError as e:
        _fail(str(e))
    doc = report.as_dict()
    doc["report_file"] = str(path)
    doc["summary_receipt"] = None if summary is None else {"ok": summary.ok,
                                                           "detail": summary.detail}
    if json_out:
        typer.echo(json.dumps(doc, ensure_ascii=False))
    else:
        from provisioning.selftest_run import print_report

        print_report(report, path, summary)
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    """Add enroll and selftest to `kiosk provision`."""
    app.command("enroll")(enroll)
    app.command("selftest")(selftest)
