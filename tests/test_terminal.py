"""The terminal as a whole: profile -> devices, outbox, sync, session, on a real data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.running import RunningBackOffice, start_in_thread
from devices.id_reader.simulator import DEMO_CITIZENS
from kiosk.config.catalogue import Intent
from kiosk.config.errors import ConfigError
from kiosk.config.profile import load_profile, with_simulated_devices
from kiosk.config.settings import Clock, Timings
from kiosk.demo.faces import put_photos_on_file
from kiosk.demo.seed import seed_demo_locker
from kiosk.demo.simulate import run_one_session, simulated_profile
from kiosk.session import State
from kiosk.session.steps import InlineSteps
from kiosk.terminal import Terminal, TerminalOptions
from tests.enrol import enrol

pytestmark = pytest.mark.realstack


def make_terminal(data: Path, at: str | RunningBackOffice, clock: Clock | None = None,
                  **timings: float) -> Terminal:
    """A terminal enrolled with the back office `at` (or, given a URL, already enrolled);
    on `clock` when given."""
    url = at if isinstance(at, str) else at.url
    more = {} if clock is None else {"clock": clock}
    terminal = Terminal(simulated_profile(load_profile("gov-hall"), data),
                        TerminalOptions(data_dir=data, backoffice_url=url, steps=InlineSteps(),
                                        timings=Timings.instant().model_copy(update=timings),
                                        **enrol(data, None if isinstance(at, str) else at),
                                        **more))
    seed_demo_locker(terminal)
    return terminal


def test_submission_survives_a_restart_while_the_back_office_is_down(tmp_path: Path) -> None:
    backoffice = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    enrol(tmp_path / "kiosk", backoffice)
    backoffice.stop()  # down: nothing answers on its port
    terminal = make_terminal(tmp_path / "kiosk", backoffice.url)
    terminal.start()
    service = next(s for s in terminal.services if s.id == "social_security_card_renewal")
    assert run_one_session(terminal, service, 0)
    stats = terminal.outbox.stats()
    # The application and the visit's rating, both kept until the back office is back.
    assert stats.pending + stats.in_flight == 2 and stats.delivered == 0
    terminal.stop()
    backoffice = start_in_thread("127.0.0.1", backoffice.port, tmp_path / "bo")
    try:
        again = make_terminal(tmp_path / "kiosk", backoffice.url)
        again.start()
        assert again.sync.wait_until_drained(10)
        again.stop()
        assert backoffice.store.counts()["applications"] == 1
    finally:
        backoffice.stop()


def test_delivered_envelopes_past_retention_are_purged_at_start(tmp_path: Path) -> None:
    backoffice = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    try:
        put_photos_on_file(backoffice, [c.id_number for c in DEMO_CITIZENS])
        terminal = make_terminal(tmp_path / "kiosk", backoffice)
        terminal.start()
        service = next(s for s in terminal.services if s.id == "social_security_card_renewal")
        assert run_one_session(terminal, service, 0)
        assert terminal.sync.wait_until_drained(10)
        terminal.stop()
        again = make_terminal(tmp_path / "kiosk", backoffice.url, delivered_retention_s=0)
        again.start()
        assert again.outbox.stats().delivered == 0
        again.stop()
    finally:
        backoffice.stop()


def test_demo_locker_collection_opens_a_door_and_records_it(tmp_path: Path) -> None:
    backoffice = start_in_thread("127.0.0.1", 0, tmp_path / "bo")
    try:
        put_photos_on_file(backoffice, [DEMO_CITIZENS[0].id_number])
        terminal = make_terminal(tmp_path / "kiosk", backoffice)
        terminal.sync.stop()  # the event stays in the outbox, to be looked at
        s = terminal.session
        s.touch()
        s.choose_intent(Intent.COLLECT)
        for _ in range(10):
            if s.state is State.CONSENT:  # the citizen agrees to the face check
                s.consent_face(True)
            s.tick()
        assert s.state is State.DONE and s.view().outcome.door == 1
        assert [e.kind for e in terminal.outbox.list()] == ["locker.collected"]
        terminal.stop()
    finally:
        backoffice.stop()


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot create the data directory"):
        Terminal(with_simulated_devices(load_profile("gov-hall")),
                 TerminalOptions(data_dir=blocker / "kiosk", backoffice_url="http://127.0.0.1:9"))


def test_the_terminal_says_what_a_citizen_can_identify_with(tmp_path: Path) -> None:
    from backoffice.qr_tokens import QrIssuer

    plain = make_terminal(tmp_path / "a", "http://127.0.0.1:9")
    assert plain.session.d.documents == ("resident_id", "residence_permit", "passport")
    plain.stop()
    key = tmp_path / "qr.pem"
    key.write_bytes(QrIssuer(tmp_path).public_key_pem())
    profile = with_simulated_devices(load_profile("gov-hall"), instant=True)
    profile = profile.model_copy(update={"backoffice": profile.backoffice.model_copy(
        update={"qr_public_key_file": str(key)})})
    with_qr = Terminal(profile, TerminalOptions(data_dir=tmp_path / "b",
                                                backoffice_url="http://127.0.0.1:9",
                                                steps=InlineSteps(), **enrol(tmp_path / "b")))
    assert with_qr.session.d.documents == ("resident_id", "residence_permit", "passport",
                                           "qr_code")
    assert [w.name for w in with_qr.devices.id_readers] == ["id_reader.1", "id_reader.2",
                                                             "id_reader.qr"]
    with_qr.stop()
    (tmp_path / "broken.pem").write_text("not a key")
    broken = profile.model_copy(update={"backoffice": profile.backoffice.model_copy(
        update={"qr_public_key_file": str(tmp_path / "broken.pem")})})
    with pytest.raises(ConfigError, match=r"backoffice\.qr_public_key_file"):
        Terminal(broken, TerminalOptions(data_dir=tmp_path / "c",
                                         backoffice_url="http://127.0.0.1:9",
                                         **enrol(tmp_path / "c")))
