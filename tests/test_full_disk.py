"""A terminal whose data directory is on a small file system that fills up (a real tmpfs of
6 MiB, mounted for the test): every application it accepted is kept and delivered once
there is a back office again; when space runs short it takes no new session and says why;
once space is freed it serves again."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backoffice import start_in_thread
from kiosk.config.profile import load_profile
from kiosk.config.settings import Timings
from kiosk.demo.simulate import run_one_session, simulated_profile
from kiosk.session import State
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions
from tests.enrol import enrol

pytestmark = pytest.mark.realstack
MIN_FREE = 300 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", str(mount)],
                   check=True, capture_output=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True, capture_output=True)


def test_a_full_disk_loses_nothing_accepted_and_refuses_new_sessions_clearly(
        small_fs: Path, tmp_path: Path) -> None:
    bo = start_in_thread("127.0.0.1", 0, tmp_path / "bo")  # on the big disk
    data = small_fs / "kiosk"
    options = enrol(data, bo)
    bo.stop()  # the network is down: everything stays in the outbox, on the small disk
    timings = Timings.instant().model_copy(update={"min_free_bytes": MIN_FREE})
    terminal = Terminal(simulated_profile(load_profile("gov-hall"), tmp_path / "view"),
                        TerminalOptions(data_dir=data, backoffice_url=bo.url, timings=timings,
                                        steps=InlineSteps(), **options))
    terminal.start()
    accepted: list[str] = []
    try:
        service = next(s for s in terminal.services if s.id == "social_security_card_renewal")
        (small_fs / "filler").write_bytes(b"\0" * (3 * 1024 * 1024))  # what else is there
        for n in range(200):
            terminal.session.tick()
            if terminal.session.state is State.OUT_OF_SERVICE:
                break
            tracking_no = run_one_session(terminal, service, n)
            if tracking_no is not None:
                accepted.append(tracking_no)
        view = terminal.session.view()
        assert view.state is State.OUT_OF_SERVICE and view.notice is not None
        assert view.notice.key == "storage_full"
        assert len(accepted) >= 4  # it worked while there was room
        terminal.session.touch()  # a citizen touches the screen: no session starts
        assert terminal.session.state is State.OUT_OF_SERVICE
        # Space comes back (staff clear it): the terminal serves again.
        (small_fs / "filler").unlink()
        terminal.session.tick()
        assert terminal.session.state is State.ATTRACT
    finally:
        terminal.stop()
    # The network comes back: every accepted application reaches the back office, once.
    bo = start_in_thread("127.0.0.1", bo.port, tmp_path / "bo")
    try:
        again = Terminal(simulated_profile(load_profile("gov-hall"), tmp_path / "view"),
                         TerminalOptions(data_dir=data, backoffice_url=bo.url, timings=timings,
                                         steps=InlineSteps(), **options))
        again.start()
        try:
            assert again.sync.wait_until_drained(60)
            assert again.outbox.stats().parked == 0
        finally:
            again.stop()
        for tracking_no in accepted:
            assert bo.store.application(tracking_no) is not None, tracking_no
        assert bo.store.counts()["applications"] == len(accepted)
    finally:
        bo.stop()
