"""The `kiosk` command: the stable surface that scripts and technicians use.

Every command has --help, exits non-zero with a one-line reason on failure, and offers --json
where a script would read its output. The touch UI is reached through the `kiosk.ui` entry
point (provided by screens/), so that nothing in kiosk/ imports Kivy or the screens package.
"""

from __future__ import annotations

import json
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from kiosk.cli.audit import audit_app
from kiosk.cli.checks import PortOpt, UrlOpt, check_database_url
from kiosk.cli.device import device_app
from kiosk.cli.locker import locker_app
from kiosk.cli.peers import peers
from kiosk.cli.queue import queue_app
from kiosk.cli.staff import staff_app
from kiosk.cli.supervise import SUPERVISE_CONTEXT, supervise
from kiosk.config.errors import ConfigError
from kiosk.config.profile import (
    Profile,
    load_profile,
    with_simulated_devices,
    without_lockdown,
    without_maintenance,
)
from kiosk.records.dir_lock import DataDirLock
from kiosk.terminal import Terminal, TerminalOptions, read_token

app = typer.Typer(
    help="24-hour self-service kiosk: touch UI, devices, durable outbox, back office.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(queue_app, name="queue")
app.add_typer(device_app, name="device")
app.add_typer(locker_app, name="locker")
app.add_typer(staff_app, name="staff")
app.command("supervise", context_settings=SUPERVISE_CONTEXT)(supervise)
app.add_typer(audit_app, name="audit")
app.command("peers")(peers)
for _plugin in entry_points(group="kiosk.commands"):  # kiosk provision (provisioning/)
    app.add_typer(_plugin.load(), name=_plugin.name)

RESTART_EXIT = 75  # EX_TEMPFAIL: stopped to be started again (systemd, kiosk supervise)
ProfileOpt = Annotated[str, typer.Option("--profile", help="Profile name or TOML file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where state is kept.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TokenFileOpt = Annotated[Path | None, typer.Option(
    help="With --backoffice: the bearer token it issued to terminals.")]
CitizenKeyOpt = Annotated[Path | None, typer.Option(
    help="With --backoffice: the citizen-hash key it issued to terminals.")]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"kiosk: {message}", err=True)
    raise typer.Exit(code)


def _profile(name: str) -> Profile:
    try:
        return load_profile(name)
    except ConfigError as e:
        fail(str(e))
        raise AssertionError from e  # unreachable: fail() exits


def _ui(name: str) -> Any:
    """The UI function `name` from the `kiosk.ui` entry point (screens/)."""
    for ep in entry_points(group="kiosk.ui"):
        if ep.name == name:
            return ep.load()
    fail(f"the touch UI is not installed (no kiosk.ui entry point {name!r}); reinstall")


def _run_ui(terminal: Terminal, *, autoplay: bool) -> None:
    launch = _ui("launch")
    terminal.start(deliveries=False)  # the UI starts them once its first frame is drawn
    try:
        launch(terminal, autoplay=autoplay)
    except ConfigError as e:  # e.g. no font that can draw Chinese
        fail(str(e))
    finally:
        terminal.stop()


@app.command()
def demo(
    profile: ProfileOpt = "gov-hall",
    data_dir: DataDirOpt = None,
    backoffice: Annotated[
        str | None, UrlOpt(help="Back-office URL; default: an embedded one on loopback.")
    ] = None,
    token_file: TokenFileOpt = None,
    citizen_key_file: CitizenKeyOpt = None,
    autoplay: Annotated[
        bool | None,
        typer.Option(help="A simulated citizen taps through the screens (default: when "
                     "there is no display)."),
    ] = None,
) -> None:
    """The full app, an embedded reference back office, and the real identity adapters on
    their wire peers: the SAM reader on a pty, passports and bank cards on virtual cards under
    pcscd, QR codes and faces through the OpenCV camera looking at an image file, receipts
    through the ESC/POS adapter to its wire peer, certificates through CUPS to a virtual A4
    printer behind a private cupsd, the locker through the RS-485 adapter to its lock boards'
    peer on a pty."""
    from devices.id_reader.pcsc.config import PcscConfig
    from kiosk.demo.enrolment import backoffice_at
    from kiosk.demo.faces import CameraView, put_photos_on_file, with_camera_view
    from kiosk.demo.locker import DemoLockerStaff, locker_peer, with_locker_peer
    from kiosk.demo.peers import (
        VPCD_READER,
        DemoHands,
        certificate_printer_peer,
        demo_document_numbers,
        optional_pcscd,
        printer_peer,
        sam_peer,
        with_backoffice_qr_key,
        with_certificate_printer_peer,
        with_demo_readers,
        with_printer_peer,
    )
    from kiosk.demo.seed import register_demo_residents, seed_demo_locker

    data = data_dir or Path("var/demo")
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"{data}: cannot create the data directory: {e.strerror}")
    raw = _profile(profile)
    try:
        held = DataDirLock(data / "kiosk")  # before enrolling: never another demo's secrets
    except ConfigError as e:
        fail(str(e))
    with held, backoffice_at(backoffice, data, token_file=token_file,
                       citizen_key_file=citizen_key_file) as access, \
            sam_peer() as sam, optional_pcscd() as pcsc, \
            printer_peer(data / "printed") as printer, \
            certificate_printer_peer(data / "certificates") as a4, locker_peer(raw) as locker:
        view = CameraView(data / "camera-view.png")
        leavable = without_lockdown(without_maintenance(raw))  # a window on a developer's desk
        prof = with_demo_readers(with_simulated_devices(leavable), raw, sam.port, pcsc=pcsc)
        prof = with_certificate_printer_peer(with_printer_peer(prof, printer), a4)
        prof = with_locker_peer(prof, locker)
        url = access.url
        prof = with_camera_view(with_backoffice_qr_key(prof, url, data / "kiosk"), view)
        put_photos_on_file(access, demo_document_numbers())
        register_demo_residents(access)
        typer.echo(f"kiosk demo: profile {prof.profile}, back office {url}, data in {data}; "
                   f"SAM reader peer on {sam.port}; PC/SC "
                   f"{'on ' + VPCD_READER if pcsc else 'not available'}; "
                   f"the camera looks at {view.path}; receipts print to the ESC/POS peer on "
                   f"{printer.host}:{printer.port} ({data / 'printed'}/*.png); certificates "
                   + (f"print through CUPS ({a4.socket}) to {a4.out_dir}/*.pdf" if a4 else
                      "go to the simulated A4 printer (cupsd is not installed)")
                   + (f"; the locker's boards answer on {locker.port}" if locker else
                      "; the locker is simulated (the profile fits no RS-485 locker)"))
        try:
            token, key = access.enrol(data / "kiosk")
            terminal = Terminal(prof, TerminalOptions(data_dir=data / "kiosk", backoffice_url=url,
                                                      token_file=token, citizen_key_file=key))
        except ConfigError as e:
            fail(str(e))
        seed_demo_locker(terminal)
        if locker is not None:
            DemoLockerStaff(terminal.session, terminal.inventory, locker)
        pcsc_documents = tuple(d for c in prof.devices.configs("id_reader")
                               if isinstance(c, PcscConfig) for d in c.documents)
        hands = DemoHands(terminal.session, sam, view=view, backoffice=access,
                          pcsc_documents=pcsc_documents, locker=locker)
        try:
            _run_ui(terminal, autoplay=autoplay if autoplay is not None else _headless())
        finally:
            hands.stop()


def _headless() -> bool:
    import os

    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", help="The terminal's profile (TOML).")],
    data_dir: Annotated[Path, typer.Option("--data-dir")] = Path("/var/lib/kiosk"),
) -> None:
    """Production start: real devices from the profile, the profile's back office."""
    if not config.is_file():
        fail(f"{config}: no such file")
    prof = _profile(str(config))
    if not prof.backoffice.url:
        fail(f"{config}: backoffice.url: required for `kiosk run` (only `kiosk demo` embeds one)")
    from kiosk.ops.startup import production_check, start_production

    problems = production_check(prof, data_dir)
    if problems:
        for problem in problems[:-1]:
            typer.echo(f"kiosk: {config}: {problem}", err=True)
        fail(f"{config}: {problems[-1]}" + (f" ({len(problems)} problems: a production "
                                            "start refuses them all)" if len(problems) > 1
                                            else ""))
    try:
        started = start_production(prof, data_dir)
    except (ConfigError, OSError) as e:
        fail(str(e))
    try:
        _run_ui(started.terminal, autoplay=False)
    finally:
        started.release()
    started.ended_cleanly()
    if started.terminal.restart_requested:
        typer.echo("kiosk: restarting (configuration from the back office)", err=True)
        raise typer.Exit(RESTART_EXIT)


@app.command()
def simulate(
    sessions: Annotated[int, typer.Option("--sessions", min=1, help="How many citizens.")],
    profile: ProfileOpt = "gov-hall",
    backoffice: Annotated[
        str | None, UrlOpt(help="Back-office URL; default embedded.")
    ] = None,
    data_dir: DataDirOpt = None,
    time_limit: Annotated[float, typer.Option(help="Seconds before giving up on draining.")] = 120,
    token_file: TokenFileOpt = None,
    citizen_key_file: CitizenKeyOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Headless end-to-end citizen sessions through the core, outbox and back office."""
    from kiosk.demo.simulate import run_simulation

    prof = _profile(profile)
    data = data_dir or Path(tempfile.mkdtemp(prefix="kiosk-simulate-"))
    try:
        report = run_simulation(prof, sessions, data, backoffice, time_limit,
                                token_file=token_file, citizen_key_file=citizen_key_file)
    except (ConfigError, ValueError) as e:
        fail(str(e))
    except OSError as e:
        fail(f"{data}: {e.strerror}")
    if json_out:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        typer.echo(
            f"{report.sessions_completed}/{report.sessions_requested} sessions completed, "
            f"{report.envelopes_enqueued} enqueued, {report.delivered} delivered, "
            f"{report.failed} failed, {report.pending} pending, {report.seconds} s "
            f"({report.sessions_per_s} sessions/s); back office {report.backoffice_url} holds "
            f"{report.backoffice_applications} applications; data in {report.data_dir}"
        )
    ok = (report.drained and report.failed == 0
          and report.sessions_completed == report.sessions_requested)
    if not ok:
        raise typer.Exit(1)


@app.command()
def screenshot(
    out: Annotated[Path, typer.Option("--out", help="PNG file to write (a directory with --all).")],
    screen: Annotated[str | None, typer.Option("--screen", help="Screen name.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "zh",
    profile: ProfileOpt = "gov-hall",
    elder: Annotated[bool, typer.Option(help="Elder mode (长辈模式).")] = False,
    high_contrast: Annotated[bool, typer.Option(help="High-contrast theme.")] = False,
    landscape: Annotated[bool, typer.Option(help="1920x1080 instead of 1080x1920.")] = False,
    every: Annotated[bool, typer.Option("--all", help="Every screen in every variant (both "
                                        "profiles, portrait and landscape, elder mode, high "
                                        "contrast, both languages) into the directory --out, "
                                        "with a contact sheet per variant and the layout "
                                        "audit's findings; exit 1 if it found any.")] = False,
) -> None:
    """Render one screen offscreen to a PNG, with demo data; or, with --all, all of them."""
    if lang not in ("zh", "en"):
        fail("--lang must be zh or en")
    if every:
        sheet = _ui("contact_sheet")
        try:
            made = sheet(out)
        except (ConfigError, RuntimeError, OSError) as e:
            fail(str(e))
        for path in made["sheets"]:
            typer.echo(path)
        problems = made["problems"]
        for where, found in sorted(problems.items()):
            for line in found:
                typer.echo(f"{where}: {line}", err=True)
        typer.echo(f"{len(made['sheets'])} contact sheets in {out}; the layout audit found "
                   f"{sum(len(f) for f in problems.values())} problems")
        if problems:
            raise typer.Exit(1)
        return
    if screen is None:
        fail("give --screen NAME, or --all")
    shoot = _ui("screenshot")
    prof = with_simulated_devices(_profile(profile))
    try:
        shoot(prof, screen=screen, lang=lang, out=out, elder=elder,
              high_contrast=high_contrast, landscape=landscape)
    except (ConfigError, ValueError) as e:
        fail(str(e))
    typer.echo(str(out))


@app.command()
def backoffice(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, PortOpt(help="Port to listen on.")] = 8640,
    data_dir: Annotated[Path, typer.Option("--data-dir")] = Path("var/backoffice"),
    token_file: Annotated[Path | None, typer.Option(help="Require this bearer token.")] = None,
    database: Annotated[str | None, typer.Option(
        callback=check_database_url, help="A PostgreSQL database (postgresql://user@host/db) "
        "that several back-office processes share; default: SQLite files in --data-dir "
        "(its keys and token are there in either case).")] = None,
    face_threshold: Annotated[float | None, typer.Option(
        min=0.1, max=1.0, help="Largest face distance that still counts as one person "
        "(dlib's model; default 0.55).")] = None,
) -> None:
    """The reference back office (the contract the kiosk talks to), from its own SQLite files
    or a PostgreSQL database."""
    from backoffice.faces import FaceSettings
    from backoffice.running import serve_forever

    try:
        token = read_token(str(token_file) if token_file else None)
    except ConfigError as e:
        fail(str(e))
    try:
        faces = FaceSettings() if face_threshold is None else FaceSettings(threshold=face_threshold)
        serve_forever(host, port, data_dir, token, faces, database)
    except ConnectionError as e:  # the database cannot be reached: its URL without password
        fail(str(e))
    except OSError as e:
        fail(f"cannot serve on {host}:{port} from {data_dir}: {e.strerror}")


def main() -> None:
    from kiosk.ops.logs import configure_logging

    configure_logging()  # plain lines, or JSON lines with KIOSK_LOG_FORMAT=json; no Kivy banner
    sys.exit(run_cli())


def run_cli(args: list[str] | None = None) -> int:
    """The command, with a wrong argument said in one line (`kiosk simulate: Invalid value
    for '--sessions': ...`) rather than a usage box; the exit code to leave with."""
    try:
        code = app(args=args, prog_name="kiosk", standalone_mode=False)
    except NoArgsIsHelpError as e:
        e.show()
        return e.exit_code
    except ClickException as e:
        where = e.ctx.command_path if isinstance(e, UsageError) and e.ctx else "kiosk"
        typer.echo(f"{where}: {e.format_message()}", err=True)
        return e.exit_code
    except typer.Abort:
        typer.echo("kiosk: aborted", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    main()
