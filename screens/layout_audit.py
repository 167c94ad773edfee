"""What a citizen would find wrong with a drawn screen, found by walking its widget tree:
text clipped, cut off by a bar or the edge of the panel, texts on top of each other, words
too faint for their background (4.5:1; 7:1 in high contrast), a target's edge too faint to
see (3:1), a target too small or too close to the next one (UI.md's sizes).

Content in a scrolling area may run past the area's edge: it is reached by scrolling, and the
area then shows its "more below" button (a Scroller), which is checked. `kiosk screenshot
--all` and the layout test run this over every scene in every variant.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kivy.metrics import dp, sp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

Rect = tuple[float, float, float, float]  # x, y, right, top in window coordinates
EPS = 1.0
LEAST_SCREEN = 0.55  # of the panel's height, left by the bars to the screen and banners


@dataclass(frozen=True)
class Problem:
    kind: str  # clipped, off_screen, under_bar, overlap, contrast, edge, small_target,
    # close_targets, small_text, scroll_hint, cramped
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


def luminance(rgba: Sequence[float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def over(fg: Sequence[float], bg: Sequence[float]) -> list[float]:
    """A colour with alpha, as drawn over an opaque background."""
    a = fg[3] if len(fg) > 3 else 1.0
    return [fg[i] * a + bg[i] * (1 - a) for i in range(3)] + [1.0]


def contrast(a: Sequence[float], b: Sequence[float]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass
class _Seen:
    widget: Any
    rect: Rect
    bg: list[float]
    behind: list[float]  # what is painted behind the widget itself
    region: str  # which part of the frame: top, banner, screen, countdown, keyboard, bottom
    clip: Rect | None  # the scrolling area's viewport it is seen through
    scroll: Any  # the scrolling area


def window_rect(w: Any) -> Rect:
    x, y = w.to_window(w.x, w.y)
    return (x, y, x + w.width, y + w.height)


def _name(w: Any) -> str:
    text = getattr(w, "title", "") or getattr(w, "text", "") or getattr(w, "hint_text", "")
    text = str(text).replace("\n", " ")
    return f"{type(w).__name__} {text[:40]!r}" if text else type(w).__name__


def _own_bg(w: Any) -> list[float] | None:
    """The opaque colour a widget paints behind its children, if it paints one."""
    if isinstance(w, TextInput):
        return list(w.background_color)
    colour = getattr(w, "audit_bg", None) or getattr(w, "bg", None)
    if colour is not None and len(colour) == 4 and colour[3] >= 0.99:
        return list(colour)
    return None


def _walk(w: Any, bg: list[float], region: str, clip: Rect | None, scroll: Any
          ) -> Iterator[_Seen]:
    if w.opacity <= 0.01 or w.width <= 0 or w.height <= 0:
        return
    behind, bg = bg, _own_bg(w) or bg
    yield _Seen(w, window_rect(w), bg, behind, region, clip, scroll)
    if isinstance(w, ScrollView):
        clip, scroll = window_rect(w), w
    for child in w.children:
        yield from _walk(child, bg, region, clip, scroll)


def _inside(inner: Rect, outer: Rect) -> bool:
    return (inner[0] >= outer[0] - EPS and inner[1] >= outer[1] - EPS
            and inner[2] <= outer[2] + EPS and inner[3] <= outer[3] + EPS)


def _intersects(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] - EPS and b[0] < a[2] - EPS and a[1] < b[3] - EPS and b[1] < a[3] - EPS


def _gap(a: Rect, b: Rect) -> float:
    dx = max(b[0] - a[2], a[0] - b[2], 0.0)
    dy = max(b[1] - a[3], a[1] - b[3], 0.0)
    return max(dx, dy)


def _visible_part(r: Rect, clip: Rect | None) -> Rect | None:
    if clip is None:
        return r
    part = (max(r[0], clip[0]), max(r[1], clip[1]), min(r[2], clip[2]), min(r[3], clip[3]))
    return part if part[2] - part[0] > EPS and part[3] - part[1] > EPS else None


def audit(shell: Any, window_size: tuple[float, float]) -> list[Problem]:
    """Everything wrong with what the shell shows now."""
    th = shell.theme
    screen_bg = list(th.background)
    regions = [(shell.top_bar, "top"), (shell.offline, "banner"), (shell.notice, "banner"),
               (shell.step_bar, "steps"), (shell.manager.current_screen, "screen"),
               (shell.countdown, "countdown"), (getattr(shell, "keyboard", None), "keyboard"),
               (shell.bottom, "bottom")]
    seen: list[_Seen] = []
    areas: dict[str, Rect] = {}
    for root, region in regions:
        if root is None or (root.parent is None and region != "screen"):
            continue
        areas[region] = window_rect(shell.manager if region == "screen" else root)
        seen += list(_walk(root, screen_bg, region, None, None))
    panel: Rect = (0.0, 0.0, float(window_size[0]), float(window_size[1]))
    problems: list[Problem] = []
    ratio = 7.0 if th.high_contrast else 4.5
    least_text = sp(44) if th.elder else sp(32)
    least_h = dp(128) if th.elder else dp(96)
    targets: list[tuple[_Seen, Rect]] = []
    texts: list[tuple[_Seen, Rect]] = []
    for s in seen:
        w, r = s.widget, s.rect
        where = f"{s.region}/{_name(w)}"
        if s.clip is None and not _inside(r, panel):
            problems.append(Problem("off_screen", where, f"{_fmt(r)} outside {_fmt(panel)}"))
        area = areas.get(s.region)
        if s.clip is None and area is not None and not _inside(r, area):
            problems.append(Problem("under_bar", where,
                                    f"{_fmt(r)} runs out of its area {_fmt(area)}"))
        if s.clip is not None and (r[0] < s.clip[0] - EPS or r[2] > s.clip[2] + EPS):
            problems.append(Problem("clipped", where, "wider than its scrolling area"))
        shown = _visible_part(r, s.clip)
        is_target = isinstance(w, ButtonBehavior | TextInput)
        if is_target and shown is not None:
            targets.append((s, shown))
            _check_target(s, where, least_h, problems)
        if isinstance(w, Label) and w.text.strip() and shown is not None:
            texts.append((s, shown))
            _check_text(s, where, ratio, least_text, problems)
        if isinstance(w, TextInput):
            _check_field_text(s, where, ratio, least_text, problems)
    # The frame's own bars (not the banners: what they say is content) leave room enough.
    bars = sum(r[3] - r[1] for name, r in areas.items()
               if name in ("top", "steps", "countdown", "bottom")
               and r[2] - r[0] > window_size[0] / 2)  # a side column takes no height
    if bars > (1 - LEAST_SCREEN) * window_size[1]:
        problems.append(Problem("cramped", "frame",
                                f"the bars take {bars:.0f} px of {window_size[1]:.0f}, leaving "
                                f"less than {LEAST_SCREEN:.0%} to the screen"))
    for s in seen:
        hint = getattr(s.widget, "hint", None)
        if getattr(s.widget, "overflowing", False) and (hint is None or hint.parent is None):
            problems.append(Problem("scroll_hint", _name(s.widget),
                                    "content overflows with no 'more below' hint"))
    problems += _crowding(targets, texts)
    return problems


def _check_target(s: _Seen, where: str, least_h: float, problems: list[Problem]) -> None:
    w = s.widget
    if w.height < least_h - EPS or w.width < dp(96) - EPS:
        problems.append(Problem("small_target", where,
                                f"{w.width:.0f}x{w.height:.0f}, at least {dp(96):.0f}x"
                                f"{least_h:.0f}"))
    fill = _own_bg(w) or s.bg
    edge = list(getattr(w, "edge", [0, 0, 0, 0]))
    behind = s.behind
    seen_by_fill = contrast(over(fill, behind), behind)
    seen_by_edge = contrast(over(edge, behind), behind) if edge and edge[3] > 0 else 1.0
    if max(seen_by_fill, seen_by_edge) < 3.0 - 1e-6:
        problems.append(Problem("edge", where,
                                f"edge {max(seen_by_fill, seen_by_edge):.2f}:1 against what is "
                                "behind it, at least 3:1"))


def _ancestors(w: Any) -> Iterator[Any]:
    """Up to the window (whose parent is itself)."""
    seen = {id(w)}
    p = w.parent
    while p is not None and id(p) not in seen:
        seen.add(id(p))
        yield p
        p = p.parent


def _check_text(s: _Seen, where: str, ratio: float, least: float,
                problems: list[Problem]) -> None:
    w = s.widget
    tw, tl = w.texture_size
    if tw > w.width + 2 or tl > w.height + 2:
        problems.append(Problem("clipped", where,
                                f"text {tw:.0f}x{tl:.0f} in {w.width:.0f}x{w.height:.0f}"))
    colour = w.disabled_color if w.disabled else w.color
    c = contrast(over(colour, s.bg), s.bg)
    if c < ratio - 1e-6:
        problems.append(Problem("contrast", where, f"{c:.2f}:1, at least {ratio}:1"))
    if w.font_size < least - 0.5:
        problems.append(Problem("small_text", where,
                                f"{w.font_size:.0f} px, at least {least:.0f}"))


def _check_field_text(s: _Seen, where: str, ratio: float, least: float,
                      problems: list[Problem]) -> None:
    w = s.widget
    colour = w.foreground_color if w.text else w.hint_text_color
    c = contrast(over(colour, s.bg), s.bg)
    if c < ratio - 1e-6:
        problems.append(Problem("contrast", where, f"{c:.2f}:1, at least {ratio}:1"))
    if w.font_size < least - 0.5:
        problems.append(Problem("small_text", where, f"{w.font_size:.0f} px"))


def _crowding(targets: list[tuple[_Seen, Rect]], texts: list[tuple[_Seen, Rect]]
              ) -> list[Problem]:
    problems: list[Problem] = []
    for i, (a, ra) in enumerate(targets):
        for b, rb in targets[i + 1:]:
            if _related(a.widget, b.widget):
                continue
            if _intersects(ra, rb):
                problems.append(Problem("overlap", f"{_name(a.widget)} / {_name(b.widget)}",
                                        "targets on top of each other"))
            elif _gap(ra, rb) < dp(16) - EPS:
                problems.append(Problem("close_targets",
                                        f"{_name(a.widget)} / {_name(b.widget)}",
                                        f"{_gap(ra, rb):.0f} px apart, at least {dp(16):.0f}"))
    for i, (a, ra) in enumerate(texts):
        for b, rb in texts[i + 1:]:
            if not _related(a.widget, b.widget) and _intersects(_ink(a.widget, ra),
                                                                 _ink(b.widget, rb)):
                problems.append(Problem("overlap", f"{_name(a.widget)} / {_name(b.widget)}",
                                        "texts on top of each other"))
    return problems


def _ink(w: Any, r: Rect) -> Rect:
    """Where a label's text is drawn: its texture, placed by its alignment in its box."""
    tw, tl = min(w.texture_size[0], r[2] - r[0]), min(w.texture_size[1], r[3] - r[1])
    x = {"left": r[0], "right": r[2] - tw}.get(w.halign, (r[0] + r[2] - tw) / 2)
    y = {"top": r[3] - tl, "bottom": r[1]}.get(w.valign, (r[1] + r[3] - tl) / 2)
    return (x, y, x + tw, y + tl)


def _related(a: Any, b: Any) -> bool:
    """One inside the other (a button's own label, a field inside a target)."""
    return any(p is b for p in _ancestors(a)) or any(p is a for p in _ancestors(b))


def _fmt(r: Rect) -> str:
    return f"({r[0]:.0f},{r[1]:.0f})-({r[2]:.0f},{r[3]:.0f})"
