"""The touch UI, offscreen: a citizen taps through a whole flow, from attract to goodbye,
against the real session, outbox, sync worker and a loopback reference back office."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.realstack]


@pytest.fixture(scope="module")
def window() -> Any:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from screens.fonts import register_default_font

    register_default_font()
    EventLoop.ensure_window()
    return Window


def pump(until: Callable[[], bool], limit_s: float = 20.0) -> None:
    """Run frames until the condition holds; the session works on its own thread."""
    from kivy.base import EventLoop

    deadline = time.monotonic() + limit_s
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("the UI did not get there in time")
        EventLoop.idle()


def on_attract(shell: Any) -> bool:
    """The first view has been drawn and laid out on the attract screen."""
    return (shell.view is not None and shell.view.state.value == "attract"
            and shell.manager.current == "attract" and shell.manager.current_screen.height > 500)


def widgets(root: Any) -> Iterator[Any]:
    yield root
    for child in root.children:
        yield from widgets(child)


def scroll_into_view(widget: Any) -> None:
    from kivy.base import EventLoop
    from kivy.uix.scrollview import ScrollView

    parent, seen = widget.parent, set()
    while parent is not None and not isinstance(parent, ScrollView) and id(parent) not in seen:
        seen.add(id(parent))  # the window is its own parent
        parent = parent.parent
    if isinstance(parent, ScrollView):
        parent.scroll_to(widget, padding=20, animate=False)
        for _ in range(2):
            EventLoop.idle()


def tap_button(shell: Any, title: str) -> None:
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    from screens.widgets import BigButton

    for _ in range(3):  # let a freshly shown screen lay out before aiming at it
        EventLoop.idle()
    current = [shell.manager.current_screen, shell.top_bar, shell.bottom, shell.countdown]
    for area in current:
        for w in widgets(area):
            if isinstance(w, BigButton) and w.title == title and not w.disabled:
                scroll_into_view(w)  # as a citizen scrolls to what is below the fold
                x, y = w.to_window(*w.center)
                touch = UnitTestTouch(x, y)
                touch.touch_down()
                touch.touch_up()
                return
    raise AssertionError(f"no button {title!r} on screen {shell.manager.current}")


def all_text(shell: Any) -> str:
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    return "\n".join(w.text for w in widgets(shell) if isinstance(w, Label | TextInput))


@pytest.fixture
def kiosk_ui(window: Any, tmp_path: Path) -> Iterator[Any]:
    from backoffice.running import start_in_thread
    from devices.id_reader.simulator import DEMO_CITIZENS
    from kiosk.config.profile import load_profile, with_simulated_devices, without_maintenance
    from kiosk.config.settings import Timings
    from kiosk.demo.faces import CameraView, put_photos_on_file, with_camera_view
    from kiosk.demo.seed import register_demo_residents
    from kiosk.terminal import Terminal, TerminalOptions
    from screens.bridge import SessionBridge
    from screens.shell import Shell
    from screens.theme import Theme
    from tests.enrol import enrol

    backoffice = start_in_thread("127.0.0.1", 0, tmp_path / "backoffice")
    register_demo_residents(backoffice)
    put_photos_on_file(backoffice, [c.id_number for c in DEMO_CITIZENS])
    # A certificate is issued only on a face the back office matched: the real camera adapter
    # looks at the demo citizen's face.
    view = CameraView(tmp_path / "camera-view.png")
    view.show_face()
    # Nobody on duty (an empty staffed window): a call for help at any hour gives the hotline.
    hall = without_maintenance(load_profile("gov-hall"))
    hall = hall.model_copy(update={"hours": hall.hours.model_copy(
        update={"staffed": "00:00-00:00"})})
    profile = with_camera_view(with_simulated_devices(hall, settings={
        "id_reader": {"present_after_s": 0.2}, "locker": {"close_after_s": 0.2}}), view)
    terminal = Terminal(profile, TerminalOptions(
        data_dir=tmp_path / "kiosk", backoffice_url=backoffice.url,
        timings=Timings(goodbye_s=0.3, ui_tick_s=0.02, outbox_poll_s=0.05),
        **enrol(tmp_path / "kiosk", backoffice)))
    terminal.start()
    holder: dict[str, Any] = {}
    bridge = SessionBridge(terminal.session, lambda v: holder["shell"].show(v))
    shell = Shell(profile, Theme(profile.branding), bridge)
    holder["shell"] = shell
    window.add_widget(shell)
    bridge.start(terminal.timings.ui_tick_s)
    try:
        yield shell, terminal, backoffice
    finally:
        bridge.stop()
        window.remove_widget(shell)
        terminal.stop()
        backoffice.stop()


def test_citizen_taps_from_attract_to_goodbye_and_leaves_with_the_certificate(
        kiosk_ui: Any) -> None:
    shell, terminal, backoffice = kiosk_ui
    from devices.id_reader.simulator import DEMO_CITIZENS

    start(shell)
    tap_button(shell, "我要办")
    pump(lambda: shell.manager.current == "services")
    tap_button(shell, "户籍证明")
    # The card costs no tap; the face check asks for its own consent (one tap), then the
    # simulated camera answers.
    pump(lambda: shell.manager.current == "consent")
    tap_button(shell, "同意并开始人脸核验")
    pump(lambda: shell.manager.current == "confirm")
    text = all_text(shell)
    assert "310115********" in text and DEMO_CITIZENS[0].id_number not in text  # masked
    assert "当场出具" in text
    tap_button(shell, "确认并出具证明")
    pump(lambda: shell.manager.current == "result" and "证明编号" in all_text(shell))
    serial = terminal.session.view().outcome.serial_no
    assert serial and serial in all_text(shell) and "请从 A4 打印机" in all_text(shell)
    tap_button(shell, "完成")
    pump(lambda: shell.manager.current in ("rate", "goodbye"))
    after = all_text(shell)
    assert "张*" not in after and serial not in after  # wiped before the rating is asked
    pump(lambda: shell.manager.current == "rate")  # the card taken back, the rating
    tap_button(shell, "非常满意")
    pump(lambda: shell.manager.current == "goodbye")
    pump(lambda: on_attract(shell))
    (pdf,) = (terminal.options.data_dir / "certificates").glob("certificate-*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert terminal.sync.wait_until_drained(10)  # the back office hears it was printed
    (rating,) = backoffice.server.store.ratings.ratings()  # and holds the visit's rating
    assert rating["level"] == 5 and rating["service_id"] == "household_proof"
    assert backoffice.server.certificates.issue(
        "household_proof", "next-visit", DEMO_CITIZENS[0].id_number, "张三").serial != serial


def test_language_switch_and_call_staff_from_a_screen(kiosk_ui: Any) -> None:
    shell, terminal, _ = kiosk_ui
    start(shell)
    tap_button(shell, "English")
    pump(lambda: "Hello! What would you like to do?" in all_text(shell))
    tap_button(shell, "Call staff")
    # Nobody is on duty: no promise that someone comes, the hotline and a phone code instead.
    pump(lambda: "Nobody is on duty now" in all_text(shell))
    assert "Hotline 12345" in all_text(shell) and "on their way" not in all_text(shell)
    assert getattr(shell.notice, "qr", None) is not None
    assert terminal.sync.wait_until_drained(10)
    kinds = [e.kind for e in terminal.outbox.list()]
    assert kinds == ["staff.call"]


def test_a_shop_name_is_typed_in_chinese_on_the_pinyin_keyboard(kiosk_ui: Any) -> None:
    shell, terminal, _ = kiosk_ui
    start(shell)
    tap_button(shell, "我要办")
    pump(lambda: shell.manager.current == "services")
    tap_button(shell, "我要开店")
    tap_button(shell, "我要开咖啡店")
    pump(lambda: shell.manager.current == "consent")
    tap_button(shell, "同意并开始人脸核验")
    pump(lambda: shell.manager.current == "form")
    form = shell.manager.current_screen
    pump(lambda: "shop_name" in form._inputs)
    field = form._inputs["shop_name"]
    tap_at(field)
    keyboard = shell.keyboard
    pump(lambda: keyboard.field is field and keyboard.parent is not None)
    # Docked above the bottom bar, never over it (once laid out).
    pump(lambda: keyboard.height > 0 and keyboard.y >= shell.bottom.top - 1)
    assert shell.staff_btn.get_root_window() is not None
    for letters, word in (("chenguang", "晨光"), ("kafei", "咖啡")):
        for letter in letters:
            tap_key(shell, letter)
        tap_key(shell, word)
    pump(lambda: terminal.session.view().values.get("shop_name") == "晨光咖啡")
    tap_key(shell, keyboard._words("done"))
    pump(lambda: keyboard.field is None and keyboard.parent is None)


def start(shell: Any) -> None:
    """Touch the attract screen (anywhere): the home screen."""
    from kivy.tests.common import UnitTestTouch

    pump(lambda: on_attract(shell))
    touch = UnitTestTouch(540, 1000)
    touch.touch_down()
    touch.touch_up()
    pump(lambda: shell.manager.current == "home")


def tap_at(widget: Any) -> None:
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    for _ in range(3):
        EventLoop.idle()
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def tap_key(shell: Any, title: str) -> None:
    """A key of the docked keyboard by its title (a letter, a candidate, Done)."""
    from kivy.base import EventLoop

    from screens.widgets import BigButton

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        EventLoop.idle()
        for w in widgets(shell.keyboard):
            if isinstance(w, BigButton) and w.title == title and not w.disabled \
                    and w.opacity > 0 and w.get_root_window() is not None:
                tap_at(w)
                return
    raise AssertionError(f"no key {title!r} on the keyboard")
