"""Kivy's environment, set before Kivy is first imported.

With no display (a headless terminal image, CI) Kivy draws offscreen with SDL: real frames,
no X server. Kivy's own console log, file log and argument parsing are turned off; the kiosk
logs through the logging module.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


DEFAULT_TOUCH = "mouse,disable_multitouch"


def prepare(size: tuple[int, int] = PORTRAIT, *, offscreen: bool | None = None,
            lockdown: bool = False, touch: str = DEFAULT_TOUCH) -> bool:
    """Set up Kivy for this process; returns whether drawing is offscreen. `lockdown`
    (the profile's [kiosk]): fullscreen on a display, borderless, no cursor, and `touch` the
    one input provider (screens/lockdown.py holds the keys and the close request)."""
    if "kivy" in sys.modules and "kivy.core.window" in sys.modules:
        return os.environ.get("SDL_VIDEODRIVER") == "offscreen"
    offscreen = (not has_display()) if offscreen is None else offscreen
    if offscreen:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        # Offscreen, Mesa's llvmpipe draws on the CPU with a rasterizer thread per core: the
        # second thread's bins held 75-110 MB more at some runs than at others (measured with
        # bench/ui_memory.py), for frames nobody watches. One thread: steady memory, and the
        # other core left to the terminal.
        os.environ.setdefault("LP_NUM_THREADS", "1")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy's default log mode replaces sys.stderr and the root logger's handlers; PYTHON
    # leaves both alone, so CLI errors reach stderr and logs go through logging.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    # SDL's clipboard: the default probe tries xclip/xsel first and logs tracebacks.
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    os.environ.setdefault("KIVY_HOME", str(Path(tempfile.gettempdir()) / "kiosk-kivy-home"))
    import logging

    from kivy.config import Config

    # The X11 cut buffer (xclip/xsel) does not exist on a kiosk; Kivy's TextInput still probes
    # for it and logs a CRITICAL with tracebacks. Nothing is lost without it.
    logging.getLogger("kivy").addFilter(
        lambda r: not str(r.msg).startswith("Cutbuffer: Unable to find"))

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")
    # Text is typed on the kiosk's own keyboard (screens/keyboard.py), docked by the shell;
    # Kivy's own never comes up (a physical keyboard, on a developer's desk, still types).
    Config.set("kivy", "keyboard_mode", "system")
    for name in Config.options("input"):  # Kivy's defaults probe for more (a second driver)
        Config.remove_option("input", name)
    Config.set("input", "touch" if lockdown else "mouse", touch if lockdown else DEFAULT_TOUCH)
    if lockdown:
        # Fullscreen at the panel's own resolution; offscreen there is no panel to fill and
        # the frames keep the profile's portrait or landscape size.
        Config.set("graphics", "fullscreen", "0" if offscreen else "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
        Config.set("graphics", "allow_screensaver", "0")
        for module in Config.options("modules"):  # the inspector, the monitor, ...
            Config.remove_option("modules", module)
    return offscreen
