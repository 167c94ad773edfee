"""Copies of the kiosk's screens in Kivy's own classes: what a bare Kivy app would build to
draw the same tree (bench/ui_tap.py's taps, bench/ui_memory.py's sessions and
bench/cold_start.py's attract screen). Kept free of the benchmarks' own imports, so that a
cold start drawing a copy pays for Kivy and the copy only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Spec = dict[str, Any]

_KINDS = ("TextInput", "Label", "ScrollView", "GridLayout", "BoxLayout", "AnchorLayout",
          "StackLayout", "RelativeLayout", "FloatLayout", "ProgressBar", "Widget")


def spec_of(w: Any, target: Any) -> Spec:
    """What a bare Kivy app would build to draw the same tree: Kivy's own class nearest in
    the widget's ancestry, its size hints, sizes, opacity, words and font sizes."""
    from kivy.uix.screenmanager import ScreenManager

    names = [c.__name__ for c in type(w).__mro__ if c.__module__.startswith("kivy.")]
    kind = "StencilFloatLayout" if isinstance(w, ScreenManager) else \
        next((n for n in names if n in _KINDS), "Widget")
    node: Spec = {"k": kind, "sh": list(w.size_hint), "size": [float(w.width), float(w.height)],
                  "opacity": float(w.opacity)}  # Kivy draws nothing of a widget at opacity 0
    if kind == "Label":
        node.update(text=w.text, fs=float(w.font_size), ha=w.halign, va=w.valign,
                    tw=w.text_size[0], bold=bool(w.bold))
    elif kind == "TextInput":
        node.update(text=w.text, hint=w.hint_text, fs=float(w.font_size))
    for attr in ("orientation", "cols", "padding", "spacing", "scroll_y"):
        if hasattr(w, attr):
            value = getattr(w, attr)
            node[attr] = list(value) if isinstance(value, list | tuple) else value
    if kind not in ("Label", "TextInput", "ProgressBar"):  # those draw themselves
        node["bg"] = backgrounds(w)
    if w is target:  # a button acts on release; the attract screen on the touch itself
        from kivy.uix.behaviors import ButtonBehavior

        node["tap"] = "release" if isinstance(w, ButtonBehavior) else "down"
    if kind not in ("Label", "TextInput", "ProgressBar"):
        node["c"] = [spec_of(c, target) for c in reversed(w.children)]
    return node


def backgrounds(w: Any) -> list[list[Any]]:
    """What a widget draws itself, as [rgba, radius or None, line width or 0, box]: filled
    rectangles and outlines, `box` None when the shape covers the widget (it follows it),
    else (x, y, width, height) from the widget's corner. Not a stencil's mask (a ScrollView
    or a ScreenManager draws one, and so do their copies)."""
    from kivy.graphics import Color, Line, Rectangle, RoundedRectangle, StencilPush, StencilUse

    def box(x: float, y: float, width: float, height: float) -> list[float] | None:
        covers = max(abs(x - w.x), abs(y - w.y), abs(width - w.width),
                     abs(height - w.height)) <= 2
        return None if covers else [x - w.x, y - w.y, width, height]

    found: list[list[Any]] = []
    rgba, radius, masking = [1.0, 1.0, 1.0, 1.0], None, False
    for group in (w.canvas.before, w.canvas):
        for instruction in group.children:
            if isinstance(instruction, StencilPush | StencilUse):
                masking = isinstance(instruction, StencilPush)
            elif masking:
                continue
            elif isinstance(instruction, Color):
                rgba = list(instruction.rgba)
            elif isinstance(instruction, Rectangle):  # an Ellipse too, near enough
                radius = float(instruction.radius[0][0]) \
                    if isinstance(instruction, RoundedRectangle) else None
                found.append([rgba, radius, 0, box(*instruction.pos, *instruction.size)])
            elif isinstance(instruction, Line) and len(instruction.points) >= 4:
                xs, ys = instruction.points[0::2], instruction.points[1::2]
                found.append([rgba, radius, float(instruction.width),
                              box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))])
    return found


def spec_count(spec: Spec) -> int:
    return 1 + sum(spec_count(c) for c in spec.get("c", ()))


_tappable: dict[str, type] = {}


def build_spec(spec: Spec, on_tap: Callable[[], None], found: list[Any]) -> Any:
    """The bare Kivy tree of a spec; the tap target (a ButtonBehavior on the same class)
    goes into `found`."""
    from kivy.uix.anchorlayout import AnchorLayout
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.label import Label
    from kivy.uix.progressbar import ProgressBar
    from kivy.uix.relativelayout import RelativeLayout
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.stacklayout import StackLayout
    from kivy.uix.stencilview import StencilView
    from kivy.uix.textinput import TextInput
    from kivy.uix.widget import Widget

    if "StencilFloatLayout" not in _tappable:  # a ScreenManager's copy: it clips, as it does
        _tappable["StencilFloatLayout"] = type("StencilFloatLayout", (FloatLayout, StencilView),
                                               {})
    classes: dict[str, type] = {
        "StencilFloatLayout": _tappable["StencilFloatLayout"],
        "TextInput": TextInput, "Label": Label, "ScrollView": ScrollView,
        "GridLayout": GridLayout, "BoxLayout": BoxLayout, "AnchorLayout": AnchorLayout,
        "StackLayout": StackLayout, "RelativeLayout": RelativeLayout,
        "FloatLayout": FloatLayout, "ProgressBar": ProgressBar, "Widget": Widget}
    cls = classes[spec["k"]]
    tap = spec.get("tap")
    if tap:
        key = f"{spec['k']}:{tap}"
        if key not in _tappable:
            _tappable[key] = type(f"Tappable{spec['k']}", (ButtonBehavior, cls), {}) \
                if tap == "release" else type(f"Touched{spec['k']}", (cls,), {
                    "__events__": ("on_release",), "on_release": lambda self: None,
                    "on_touch_down": _touched})
        cls = _tappable[key]
    kw: dict[str, Any] = {"size_hint": spec["sh"], "size": spec["size"],
                          "opacity": spec.get("opacity", 1.0)}
    if spec["k"] == "Label":
        kw.update(text=spec["text"], font_size=spec["fs"], halign=spec["ha"],
                  valign=spec["va"], bold=spec["bold"])
        if spec["tw"] is not None:
            kw["text_size"] = (spec["tw"], None)
    elif spec["k"] == "TextInput":
        kw.update(text=spec["text"], hint_text=spec["hint"], font_size=spec["fs"],
                  multiline=False)
    for attr in ("orientation", "cols", "padding", "spacing", "scroll_y"):
        if attr in spec and spec["k"] not in ("Label", "TextInput"):
            kw[attr] = spec[attr]
    w = cls(**kw)
    if spec.get("bg"):
        _fill(w, spec["bg"])
    if tap:
        w.bind(on_release=lambda *_: on_tap())
        found.append(w)
    for child in spec.get("c", ()):
        w.add_widget(build_spec(child, on_tap, found))
    return w


def _touched(w: Any, touch: Any) -> bool:
    """A copy's on_touch_down that acts on the touch itself, as the attract screen does."""
    if w.collide_point(*touch.pos):
        w.dispatch("on_release")
        return True
    return False


def _fill(w: Any, fills: list[list[Any]]) -> None:
    from kivy.graphics import Color, Line, Rectangle, RoundedRectangle

    shapes: list[tuple[Any, list[Any]]] = []
    with w.canvas.before:
        for fill in fills:
            rgba, radius, width, _box = fill
            Color(*rgba)
            shape = Line(width=width) if width else \
                Rectangle() if radius is None else RoundedRectangle(radius=[radius])
            shapes.append((shape, fill))

    def place(*_: object) -> None:
        for shape, (_rgba, radius, width, at) in shapes:
            x, y, sw, sh = (w.x, w.y, w.width, w.height) if at is None else \
                (w.x + at[0], w.y + at[1], at[2], at[3])
            if not width:
                shape.pos, shape.size = (x, y), (sw, sh)
            elif radius is None:
                shape.rectangle = (x, y, sw, sh)
            else:
                shape.rounded_rectangle = (x, y, sw, sh, radius)

    w.bind(pos=place, size=place)
    place()
