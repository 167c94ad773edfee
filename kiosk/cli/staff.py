"""`kiosk staff set-pin`: a technician gives a member of staff their PIN for the terminal's
console commands (`kiosk locker load|retrieve`). The PIN is read from a hidden prompt, or one
line of stdin with `--pin-stdin`, and kept only as a slow salted hash."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.device import ConfigOpt, _fail, _load
from kiosk.config.profile import Profile
from kiosk.config.settings import SystemClock
from kiosk.records.audit import AuditLog
from kiosk.records.staff_pins import STAFF_PINS_FILE, StaffPins
from kiosk.staff import StaffDesk, StaffSignIn

staff_app = typer.Typer(help="Staff PINs for the terminal's console commands.",
                        no_args_is_help=True)
DataDir = Annotated[Path, typer.Option("--data-dir", help="The kiosk's data directory.")]
PinStdin = Annotated[bool, typer.Option("--pin-stdin",
                                        help="Read the PIN from one line of stdin.")]
DEFAULT_DIR = Path("/var/lib/kiosk")
PINS_FILE = STAFF_PINS_FILE


def kiosk_dir(data_dir: Path) -> Path:
    """The terminal's own directory: `data_dir`, or its kiosk/ (a demo's directory)."""
    inner = data_dir / "kiosk"
    return inner if inner.is_dir() and not (data_dir / "locker.db").exists() else data_dir


def read_pin(pin_stdin: bool, prompt: str = "PIN") -> str:
    if pin_stdin:
        return sys.stdin.readline().strip()
    return str(typer.prompt(prompt, hide_input=True))


@staff_app.command("set-pin")
def set_pin(
    staff_id: Annotated[str, typer.Argument(help="Who (a staff number).")],
    role: Annotated[str, typer.Option(help="One of the profile's staff roles.")],
    config: ConfigOpt = None, data_dir: DataDir = DEFAULT_DIR, pin_stdin: PinStdin = False,
) -> None:
    """Set (or reset) a staff member's PIN, 6 to 12 digits; a lockout is lifted with it."""
    _role_signing_in(config, role, "pin", "a PIN")
    pin = read_pin(pin_stdin)
    _keep(data_dir, lambda pins: pins.set_pin(staff_id, role, pin), "staff_pin_set",
          staff_id, role)
    typer.echo(f"PIN set for {staff_id} ({role})")


def _role_signing_in(config: str | None, role: str, auth: str, what: str) -> None:
    """The profile has `role`, and it signs in by `auth`; else one line and exit."""
    if config is None:
        _fail("--config is required (a profile name or file)")
    assert config is not None
    roles = {r.id: r for r in _load(config, False).staff}
    if role not in roles:
        _fail(f"{config}: no staff role {role!r} (roles: {', '.join(sorted(roles))})")
    if roles[role].auth != auth:
        _fail(f"{config}: staff role {role!r} signs in with {roles[role].auth}, not {what}")


def _keep(data_dir: Path, write: Callable[[StaffPins], None], event: str, staff_id: str,
          role: str) -> None:
    """Write to the terminal's staff file (a ValueError is one line and exit), audited."""
    data_dir = kiosk_dir(data_dir)
    pins = StaffPins(data_dir / PINS_FILE)
    try:
        write(pins)
    except ValueError as e:
        _fail(str(e))
    finally:
        pins.close()
    audit = AuditLog(data_dir / "audit.jsonl", SystemClock())
    audit.record(event, staff_id=staff_id, role=role)
    audit.close()


@staff_app.command("set-badge")
def set_badge(
    staff_id: Annotated[str, typer.Argument(help="Who (a staff number).")],
    role: Annotated[str, typer.Option(help="One of the profile's staff roles that sign in "
                                      "with a badge.")],
    uid: Annotated[str, typer.Option(help="The badge's UID in hex, as `kiosk read-id` or the "
                                     "badge printer gives it (4 to 10 bytes).")],
    config: ConfigOpt = None, data_dir: DataDir = DEFAULT_DIR,
) -> None:
    """Give a member of staff their badge for this terminal (a new badge replaces the old)."""
    _role_signing_in(config, role, "badge", "a badge")
    try:
        raw = bytes.fromhex(uid.replace(":", "").replace(" ", ""))
    except ValueError:
        _fail(f"--uid {uid!r}: not hexadecimal")
        raise AssertionError from None  # unreachable: _fail exits
    _keep(data_dir, lambda pins: pins.set_badge(staff_id, role, raw), "staff_badge_set",
          staff_id, role)
    typer.echo(f"badge set for {staff_id} ({role})")


def sign_in(data_dir: Path, profile: Profile, staff_id: str, pin: str, action: str,
            audit: AuditLog) -> StaffSignIn:
    """A staff member's sign-in for one console action: their PIN, and a role that may do
    it (through the terminal's StaffDesk, as on the screen: the same audit and lockout)."""
    path = data_dir / PINS_FILE
    pins = StaffPins(path) if path.is_file() else None
    try:
        desk = StaffDesk(profile.staff, pins, audit, SystemClock(), profile.terminal.id)
        return desk.sign_in_pin(staff_id, pin, for_action=action)
    finally:
        if pins is not None:
            pins.close()
