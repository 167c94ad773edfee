"""The demo's locker through the production RS-485 adapter and the lock boards' peer process,
for both board protocols: a demo citizen identifies, the door opens, the certificate is
taken and the door shut, it is recorded as collected, and the demo's stand-in for staff
loads the door again once the screen is back at the attract screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.config.catalogue import Intent
from kiosk.config.profile import load_profile
from kiosk.config.settings import Timings
from kiosk.demo.enrolment import backoffice_at
from kiosk.demo.faces import put_photos_on_file
from kiosk.demo.locker import DemoLockerStaff, locker_peer, with_locker_peer
from kiosk.demo.simulate import simulated_profile
from kiosk.session import State
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions
from tests.waits import wait_until

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent


def ticked_until(terminal: Terminal, done: Callable[[], bool], limit_s: float = 20) -> None:
    def tick() -> bool:
        if terminal.session.state is State.CONSENT:  # the citizen agrees to the face check
            terminal.session.consent_face(True)
        terminal.session.tick()
        return done()

    wait_until(tick, limit_s, "the session to get there")


@pytest.mark.parametrize("adapter", ["rs485_8a80", "rs485_kerong"])
def test_the_demo_citizen_collects_through_the_boards_peer(adapter: str, tmp_path: Path) -> None:
    shipped = (ROOT / "kiosk/config/profiles/gov-hall.toml").read_text(encoding="utf-8")
    path = tmp_path / "hall.toml"
    path.write_text(shipped.replace('adapter = "rs485_8a80"', f'adapter = "{adapter}"'),
                    encoding="utf-8")
    raw = load_profile(str(path))
    with locker_peer(raw) as peer, backoffice_at(None, tmp_path) as access:
        assert peer is not None
        put_photos_on_file(access, [c.id_number for c in DEMO_CITIZENS])
        profile = with_locker_peer(simulated_profile(raw, tmp_path), peer)
        terminal = Terminal(profile, TerminalOptions(
            data_dir=tmp_path / "kiosk", backoffice_url=access.url, timings=Timings.instant(),
            steps=InlineSteps(), **dict(zip(("token_file", "citizen_key_file"),
                                            access.enrol(tmp_path / "kiosk"), strict=True))))
        terminal.start()
        try:
            DemoLockerStaff(terminal.session, terminal.inventory, peer)
            s = terminal.session
            ticked_until(terminal, lambda: s.state is State.ATTRACT)
            s.touch()
            s.choose_intent(Intent.COLLECT)
            ticked_until(terminal, lambda: s.state is State.HANDOVER and bool(
                s.view().outcome and s.view().outcome.door_open))
            door = s.view().outcome.door
            assert door in peer.doors
            peer.take_item(door)
            peer.close_door(door)
            ticked_until(terminal, lambda: s.state is State.DONE)
            assert s.notice is None and door not in terminal.inventory.occupied()
            s.finish()
            s.rate(5)  # 好差评
            ticked_until(terminal, lambda: s.state is State.ATTRACT)
            wait_until(lambda: door in terminal.inventory.occupied(), 20, "the door reloaded")
        finally:
            terminal.stop()
    audit = (tmp_path / "kiosk" / "audit.jsonl").read_text(encoding="utf-8")
    assert '"event": "locker_item_collected"' in audit
