"""A machine without a font that can draw Chinese stops start-up with one clear line."""

from __future__ import annotations

import pytest

from kiosk.config.errors import ConfigError
from screens import fonts


def test_missing_cjk_font_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "KNOWN_FONTS", ("/nonexistent/font.ttc",))
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)  # no fc-list either
    with pytest.raises(ConfigError, match="apt-get install fonts-wqy-microhei"):
        fonts.find_cjk_font()


def test_the_installed_font_is_found() -> None:
    assert fonts.find_cjk_font().endswith(".ttc")
