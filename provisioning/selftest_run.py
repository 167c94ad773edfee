"""`kiosk provision selftest` around kiosk/health/selftest.py: the terminal's parts opened
for the test (the kiosk must not be running on the same data directory: its own technician
screen runs the same test), progress shown with rich, the report kept and printed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile, load_profile
from kiosk.config.settings import SystemClock
from kiosk.health.selftest import Item, Report, SelfTest, SelfTestParts
from kiosk.ops.backoffice_client import BackOfficeClient
from kiosk.ops.remote_config import STATE_DIR, ConfigKeeper
from kiosk.records.audit import AuditLog
from kiosk.records.dir_lock import DataDirBusy, DataDirLock
from kiosk.records.enrolment import EnrolmentFiles
from kiosk.terminal import build_devices, open_outbox, read_token
from kiosk.versions import versions


class SelfTestError(Exception):
    """The self-test could not run at all; the message says why."""


def run_selftest(config: Path, data_dir: Path, *, confirm: Callable[[str], bool],
                 door: int | None, progress: bool, print_receipt: bool
                 ) -> tuple[Report, Path, Item | None]:
    try:
        profile = load_profile(config)
    except ConfigError as e:
        raise SelfTestError(str(e)) from e
    if not data_dir.is_dir():
        raise SelfTestError(f"{data_dir}: no such directory (enrol first: kiosk provision "
                            "enroll)")
    try:
        held = DataDirLock(data_dir)
    except DataDirBusy as e:
        raise SelfTestError(f"{e}; the running kiosk has the same self-test on its "
                            "technician screen (staff entry, then Self-test)") from e
    except ConfigError as e:
        raise SelfTestError(str(e)) from e
    try:
        # What `kiosk run` runs: a configuration from the back office once there is one.
        if (data_dir / STATE_DIR).is_dir():
            keeper = ConfigKeeper(data_dir, BackOfficeClient(profile.backoffice.url or ""),
                                  profile.terminal.id)
            profile, version = keeper.running_profile(profile)
            if version is not None and progress:
                print(f"testing configuration v{version} from the back office (what kiosk "
                      "run runs), not the local file", file=sys.stderr)
        return _run(profile, data_dir, confirm=confirm, door=door, progress=progress,
                    print_receipt=print_receipt)
    finally:
        held.release()


def _run(profile: Profile, data_dir: Path, *, confirm: Callable[[str], bool],
         door: int | None, progress: bool, print_receipt: bool
         ) -> tuple[Report, Path, Item | None]:
    timings = profile.timings
    try:
        devices = build_devices(profile, data_dir, timings, SystemClock())
    except ConfigError as e:
        raise SelfTestError(str(e)) from e
    outbox = None
    try:
        try:
            outbox = open_outbox(data_dir, recover_leases=False)
        except ConfigError:
            outbox = None  # the outbox item says so
        client = None
        if profile.backoffice.url:
            try:
                token = read_token(EnrolmentFiles.of(profile, data_dir).existing_token())
            except ConfigError:
                token = None  # the credential item says so
            client = BackOfficeClient(
                profile.backoffice.url, token=token, timeout_s=timings.backoffice_timeout_s,
                verify=profile.backoffice.tls_verify)
        parts = SelfTestParts(profile, devices, data_dir, outbox, client,
                              call_timeout_s=timings.device_call_timeout_s)
        test = SelfTest(parts, confirm=confirm, test_door=door, versions=versions())
        report = _with_progress(test) if progress else test.run()
        audit = AuditLog(data_dir / "audit.jsonl")
        try:
            path = report.keep(data_dir, audit)
        finally:
            audit.close()
        summary = test.print_summary(report) if print_receipt else None
        return report, path, summary
    finally:
        devices.stop()
        if outbox is not None:
            outbox.close()


def _with_progress(test: SelfTest) -> Report:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    console = Console(stderr=True)
    plan = test.plan()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"
                  "/{task.total}"), console=console, transient=True) as bar:
        task = bar.add_task("self-test", total=len(plan))

        def started(name: str) -> None:
            bar.update(task, description=f"testing {name}")

        def finished(item: Item) -> None:
            bar.advance(task)
            mark = "[green]✓[/green]" if item.ok else "[red]✗[/red]"
            console.print(f"{mark} {item.name}: {item.detail}", highlight=False)

        return test.run(on_item=finished, on_start=started)


def print_report(report: Report, path: Path, summary: Item | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Readiness of {report.terminal_id}")
    for column in ("", "item", "found", "what to do"):
        table.add_column(column)
    for i in report.items:
        table.add_row("[green]OK[/green]" if i.ok else "[red]FAIL[/red]", i.name, i.detail,
                      i.do)
    console = Console(file=sys.stdout)
    console.print(table)
    verdict = "[green]READY[/green]" if report.ok else "[red]NOT READY[/red]"
    receipt = "" if summary is None else f"; summary receipt: {summary.detail}"
    console.print(f"{verdict}: {sum(i.ok for i in report.items)}/{len(report.items)} passed; "
                  f"report kept in {path}{receipt}", highlight=False)
