"""`kiosk screenshot --all --out DIR`: every scene in every variant (both profiles, portrait
and landscape, normal and elder mode, normal and high contrast, Chinese and English), each
drawn from a real session, written as a PNG, looked over by the layout audit, and put on
one contact sheet per profile and orientation.

A window's size is fixed once it is made, so each orientation is drawn by a process of its
own; each writes its PNGs and what the audit found (audit-<orientation>.json).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config.profile import Profile, load_profile, with_simulated_devices
from screens import env

PROFILES = ("gov-hall", "bank-branch")
ORIENTATIONS = {"portrait": env.PORTRAIT, "landscape": env.LANDSCAPE}
THUMB_W = 270


@dataclass(frozen=True)
class Variant:
    profile: str
    orientation: str
    elder: bool
    high_contrast: bool
    lang: str

    @property
    def name(self) -> str:
        mode = ("elder" if self.elder else "normal") + ("-contrast" if self.high_contrast
                                                        else "")
        return f"{self.profile}-{self.orientation}-{mode}-{self.lang}"


def variants(orientation: str, profiles: Iterable[str] = PROFILES) -> Iterator[Variant]:
    for profile, elder, contrast, lang in itertools.product(
            profiles, (False, True), (False, True), ("zh", "en")):
        yield Variant(profile, orientation, elder, contrast, lang)


def walk(orientation: str, *, profiles: Iterable[str] = PROFILES,
         scenes: Iterable[str] | None = None,
         each: Callable[[Variant, str, Any], None]) -> None:
    """Draw every scene of every variant of one orientation (the window must already have
    its size) and call `each(variant, scene, shell)` with it on the window."""
    from kiosk.demo.scenes import SCENES
    from screens.screenshot import render_scene

    names = list(scenes) if scenes is not None else list(SCENES)
    loaded: dict[str, Profile] = {}
    shells: dict[str, Any] = {}
    for v in variants(orientation, profiles):
        profile = loaded.setdefault(v.profile, with_simulated_devices(load_profile(v.profile)))
        for scene in names:
            shell = render_scene(profile, screen=scene, lang=v.lang, elder=v.elder,
                                 high_contrast=v.high_contrast, shell=shells.get(v.profile),
                                 frames=2)
            if shells.get(v.profile) is not shell:
                shells[v.profile] = shell
            each(v, scene, shell)


def draw_orientation(orientation: str, out: Path, profiles: list[str],
                     scenes: list[str] | None) -> int:
    """In this process: PNGs and the audit of one orientation; returns the problems' count."""
    env.prepare(ORIENTATIONS[orientation], offscreen=True)
    from kivy.core.window import Window

    from screens.layout_audit import audit
    from screens.screenshot import save_window_png

    found: dict[str, list[str]] = {}

    def each(v: Variant, scene: str, shell: Any) -> None:
        save_window_png(out / v.name / f"{scene}.png")
        problems = audit(shell, Window.size)
        if problems:
            found[f"{v.name}/{scene}"] = [str(p) for p in problems]

    walk(orientation, profiles=profiles, scenes=scenes, each=each)
    (out / f"audit-{orientation}.json").write_text(
        json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    return sum(len(p) for p in found.values())


def sheets(out: Path) -> list[Path]:
    """One contact sheet per variant directory: the scenes side by side, named."""
    from PIL import Image, ImageDraw, ImageFont

    from screens.fonts import find_cjk_font

    font = ImageFont.truetype(find_cjk_font(), 22)
    made = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        shots = sorted(folder.glob("*.png"))
        if not shots:
            continue
        first = Image.open(shots[0])
        thumb_h = round(first.height * THUMB_W / first.width)
        cols = 8
        rows = -(-len(shots) // cols)
        sheet = Image.new("RGB", (cols * (THUMB_W + 10) + 10, rows * (thumb_h + 44) + 10),
                          "white")
        pen = ImageDraw.Draw(sheet)
        for i, shot in enumerate(shots):
            x, y = 10 + (i % cols) * (THUMB_W + 10), 10 + (i // cols) * (thumb_h + 44)
            with Image.open(shot) as im:
                sheet.paste(im.convert("RGB").resize((THUMB_W, thumb_h)), (x, y))
            pen.text((x, y + thumb_h + 6), shot.stem, fill="black", font=font)
        target = out / f"sheet-{folder.name}.png"
        sheet.save(target)
        made.append(target)
    return made


def contact_sheet(out: Path, *, profiles: list[str] | None = None,
                  scenes: list[str] | None = None,
                  orientations: list[str] | None = None) -> dict[str, Any]:
    """Everything, one process per orientation; returns where it went and what the audit
    found (scene -> problems)."""
    out.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    for orientation in orientations or list(ORIENTATIONS):
        cmd = [sys.executable, "-m", "screens.contact", orientation, str(out),
               ",".join(profiles or PROFILES), ",".join(scenes or [])]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600,
                              env={**os.environ, "SDL_VIDEODRIVER": "offscreen"})
        if done.returncode not in (0, 1):
            raise RuntimeError(f"drawing {orientation} failed: {done.stderr[-2000:]}")
        problems.update(json.loads((out / f"audit-{orientation}.json").read_text("utf-8")))
    return {"sheets": [str(p) for p in sheets(out)], "problems": problems}


if __name__ == "__main__":
    orientation, folder, profile_list, scene_list = sys.argv[1:5]
    count = draw_orientation(orientation, Path(folder), profile_list.split(","),
                             scene_list.split(",") if scene_list else None)
    sys.exit(1 if count else 0)
