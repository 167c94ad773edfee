"""A font with Chinese glyphs: Kivy's default font has none (boxes instead of characters)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kiosk.config.errors import ConfigError

# Debian's fonts-wqy-microhei first: one face, renders well at kiosk sizes. Noto CJK .ttc
# files put the Japanese face first, and Kivy takes the first face of a collection.
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontMissing(ConfigError):
    """The machine has no font that can draw Chinese: start-up stops and says what to install."""


def find_cjk_font() -> str:
    for path in KNOWN_FONTS:
        if Path(path).is_file():
            return path
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh-cn", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if path and "Noto" not in path:
                return path
    raise FontMissing(
        "no font with Chinese characters was found; install one with "
        "`apt-get install fonts-wqy-microhei` (the set-up script does this)"
    )


def register_default_font() -> str:
    from kivy.core.text import LabelBase

    path = find_cjk_font()
    LabelBase.register("Roboto", path, path, path, path)
    return path
