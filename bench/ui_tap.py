"""Tap to the next screen drawn: the kiosk's Shell and Session against a bare Kivy app doing
the same switches. `python -m bench.ui_tap [VISITS]` (pairs of visits; BENCH_UI_VISITS, 4).

The kiosk: the real `Shell`, drawn from the views of a real `Session` built with the scene
rig's fake devices (kiosk/demo/scenes.py `make_rig`), its intents run synchronously by a
`SessionBridge(threaded=False)`. A citizen's visits are tapped through, a certificate
(attract -> home -> 我要办 -> 户籍证明 -> the card -> the face check's consent -> the face ->
确认并出具证明 -> 完成 -> the rating -> goodbye) and an application with a form (... 我要开店
-> 我要开咖啡店 -> card, consent, face -> typing, a choice -> 下一步 -> 确认提交 -> ...) in turn;
the consent and the rating when the session asks for them. Each tap is a touch dispatched at
a real BigButton's window position (UnitTestTouch, as tests/test_ui_flow.py does; a button
below the fold is first scrolled into view, untimed), timed from the touch to the end of the
first frame flipped (`Window.on_flip`) that shows the new screen alone. Steps (device reads,
the certificate's PDF, printing) run between taps, as the terminal runs them off the UI
thread: the tap's frame is the one the citizen sees first.

The baseline: a bare Kivy app, a ScreenManager (no transition, as the kiosk's) whose screens
are structural copies of the window's tree as the kiosk had drawn it before and after each
tap: the same number of widgets, Kivy's own classes nearest to each (layouts with the same
size hints, orientation, padding, spacing, scroll and opacity; Labels with the same words,
font sizes and wrapping widths; TextInputs), the same filled backgrounds and outlines; a tap
on the copy of the tapped button switches to the copy of what followed. Same touch, same
timing. (The copies' frames take what the kiosk's take to draw: 0.98x at the median.)

Each app runs in a process of its own (its own heap: what Python's garbage collector walks
is what that app holds), offscreen in the kiosk's 1080x1920 window with the kiosk's Kivy
settings; the two are driven in lockstep, one kiosk tap then the same tap on the baseline.
Three times per tap: to the frame drawn (glFinish: Mesa's llvmpipe draws on this machine's
CPU, some 60-150 ms a frame, the same on both sides), to the flip returning with the frame's
GL work queued (what the UI thread spends, near what a panel with a GPU shows), and the UI
thread's CPU time to the flip (what other processes on the machine do not change). Kivy's
60 fps cap is lifted (Clock.tick would sleep out the rest of each 16.7 ms frame, hiding the
work of both); on a 60 Hz panel each figure gains up to a frame. The headline figures are
the taps to another screen; taps that redraw the same screen are a figure of their own.
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.screen_copy import Spec, build_spec, spec_count, spec_of

ROOT = Path(__file__).resolve().parent.parent
VISITS = int(os.environ.get("BENCH_UI_VISITS", "4"))  # pairs of visits: certificate + form
SETTLE_FRAMES = 2  # at most, drawn between taps (a frame is ~60 ms in llvmpipe at 1080x1920)


# ----------------------------------------------------------------------------- Kivy, offscreen
def prepare_kivy() -> Any:
    """The kiosk's offscreen environment, frames uncapped; returns the Window."""
    from screens import env

    env.prepare(offscreen=True)
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")
    from kivy.base import EventLoop
    from kivy.clock import Clock

    Clock._max_fps = 0.0  # read when the Clock was made, maybe before the line above
    EventLoop.ensure_window()
    from kivy.core.window import Window

    return Window


def widgets(root: Any) -> Iterator[Any]:
    yield root
    for child in root.children:
        yield from widgets(child)


def into_view(w: Any, frames: Frames) -> None:
    """Scroll `w`'s ScrollView, if it has one, until `w` is in view."""
    from kivy.uix.scrollview import ScrollView

    view = w.parent
    while view is not None and not isinstance(view, ScrollView):
        view = None if view.parent is view else view.parent  # the Window is its own parent
    if view is None:
        return
    y = w.to_window(*w.pos)[1]
    vy = view.to_window(*view.pos)[1]
    if y < vy or y + w.height > vy + view.height:
        view.scroll_to(w, padding=10, animate=False)
        frames.settle()
    x, y = w.to_window(*w.center)
    if not (vy <= y <= vy + view.height):
        raise RuntimeError(f"{w!r} is out of view at ({x:.0f}, {y:.0f})")


def only(manager: Any, name: str) -> bool:
    """The screen manager shows `name` and nothing else (a switch, even with no transition,
    draws the old and the new screen together for a frame or so)."""
    return bool(manager.current == name and not manager.transition.is_active
                and len(manager.children) == 1)


class Frames:
    """Runs the event loop a frame at a time and counts the frames flipped.

    Offscreen, Mesa's llvmpipe draws on the CPU and a flip returns before the frame is drawn:
    unfinished frames queue up and are paid for at the next sync (a texture upload), by
    whoever happens to be next. Every frame here is finished (glFinish) before going on."""

    def __init__(self, window: Any) -> None:
        from kivy.base import EventLoop
        from kivy.graphics import opengl

        self.window, self.loop, self.flips = window, EventLoop, 0
        self.settle_frames = 4
        self._done: Callable[[], bool] = lambda: True
        self._shown = False
        self._finish = opengl.glFinish
        window.bind(on_flip=self._flipped)
        self.gc_s = 0.0  # seconds in Python's garbage collector, and its full collections
        self.gc_full = 0
        self._gc_t0 = 0.0
        gc.callbacks.append(self._collecting)

    def _collecting(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_t0 = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._gc_t0
            self.gc_full += info["generation"] == 2

    def _flipped(self, *_: object) -> None:
        self.flips += 1
        self._shown = self._done()  # what this frame shows (it is drawn, not yet flipped)

    def settle(self, quiet: int = 3) -> None:
        """Turns of the event loop until `quiet` in a row draw nothing (layout has settled),
        or `settle_frames` frames were drawn (an animation draws on: the identify screen's)."""
        still = drawn = 0
        while still < quiet and drawn < self.settle_frames:
            before = self.flips
            self.loop.idle()
            if self.flips == before:
                still += 1
            else:
                still = 0
                drawn += 1
                self._finish()

    def tap(self, x: float, y: float, done: Callable[[], bool] = lambda: True, *,
            limit: int = 500) -> list[float]:
        """Touch down and up at (x, y), then frames until one that shows what `done` says:
        seconds to the return of the frame loop's turn that flipped it (its drawing queued
        for the GL), to that frame drawn (glFinish), of it in the garbage collector, the full
        collections in it, the frames flipped, and the UI thread's CPU seconds to the flip
        (what other processes on the machine do not change). A RuntimeError when nothing was
        drawn in `limit` turns of the event loop."""
        from kivy.tests.common import UnitTestTouch

        self._finish()
        touch = UnitTestTouch(x, y)
        before, gc_s, gc_full = self.flips, self.gc_s, self.gc_full
        self._done, self._shown = done, False
        t0, cpu0 = time.perf_counter(), time.thread_time()
        touch.touch_down()
        touch.touch_up()
        try:
            for _ in range(limit):
                self.loop.idle()
                if self._shown:
                    break
            else:
                raise RuntimeError("the frame after the tap was not drawn")
        finally:
            self._done = lambda: True
        flipped, cpu = time.perf_counter(), time.thread_time() - cpu0
        self._finish()
        return [flipped - t0, time.perf_counter() - t0, self.gc_s - gc_s,
                self.gc_full - gc_full, self.flips - before, cpu]

    def show(self, root: Any) -> None:
        """Make `root` the window's one widget."""
        if root.parent is self.window:
            return
        for child in list(self.window.children):
            self.window.remove_widget(child)
        self.window.add_widget(root)
        self.settle()


# ----------------------------------------------------------------------------- the kiosk
@dataclass(frozen=True)
class Tap:
    """A tap on the button titled `title` (None: anywhere on the attract screen); the screen
    the kiosk must show on the frame after it."""

    title: str | None
    screen: str


@dataclass(frozen=True)
class Do:
    """What happens between taps without one (a card read, a step, the goodbye's seconds)."""

    name: str


Action = Tap | Do


class DeferredSteps:
    """The session's steps, run when the bench says (between taps): in the terminal they run
    on threads of their own, and the tap's frame shows the state the step starts from."""

    def __init__(self) -> None:
        self.waiting: list[Callable[[], None]] = []

    def run(self, work: Callable[[], None]) -> None:
        self.waiting.append(work)

    def drain(self) -> None:
        while self.waiting:
            self.waiting.pop(0)()


class DroppingSink:
    """The envelopes' sink: counted, not kept (the terminal's outbox is on disk)."""

    def __init__(self) -> None:
        self.count = 0

    def enqueue(self, kind: str, payload: bytes, idempotency_key: str) -> object:
        self.count += 1
        return None


def visits(session: Any) -> tuple[list[Action], list[Action]]:
    """A certificate issued on the spot, and an application with a form, tap by tap, with
    the face check's consent and the rating (好差评) when the session asks for them."""
    from kiosk.config.catalogue import load_catalogue
    from kiosk.session import State
    from screens.i18n import t
    from screens.shell import NAVIGATION

    def on(state: str) -> str:
        return NAVIGATION[State(state)]

    cat = load_catalogue()
    coffee = cat.get("open_coffee_shop")
    assert coffee.group is not None
    shop = cat.group_by_id(coffee.group).title.zh  # 我要开店
    area = next(f for f in coffee.fields if f.name == "floor_area")
    identify: list[Action] = [Do("identify")]
    if getattr(session.d, "ask_face_consent", False):
        identify = [Do("card"), Tap(t("zh", "consent.agree"), on("verify")), Do("face")]
    leave: list[Action] = [Tap(t("zh", "result.finish"), on("goodbye")), Do("goodbye")]
    if getattr(session.d, "ratings", False):
        leave = [Tap(t("zh", "result.finish"), on("rate")),
                 Tap(t("zh", "rate.level_5"), on("goodbye")), Do("goodbye")]
    start: list[Action] = [Tap(None, on("home")), Tap(t("zh", "home.apply"), on("choose"))]
    certificate: list[Action] = [
        *start, Tap(cat.get("household_proof").title.zh, on("identify")), *identify,
        Tap(t("zh", "confirm.submit_certificate"), on("submitting")), Do("steps"), *leave]
    form: list[Action] = [
        *start, Tap(shop, on("choose")), Tap(coffee.title.zh, on("identify")), *identify,
        Do("type"), Tap(area.choices[0].label.zh, on("fill")),
        Tap(t("zh", "form.next"), on("confirm")), Tap(t("zh", "confirm.submit"), on("submitting")),
        Do("steps"), *leave]
    return certificate, form


class KioskUI:
    """The real Shell, on the views of a real Session with the scene rig's fake devices."""

    def __init__(self, frames: Frames) -> None:
        from kiosk.config.profile import load_profile
        from kiosk.demo.scenes import make_rig
        from kiosk.records.print_journal import PrintJournal
        from screens.bridge import SessionBridge
        from screens.fonts import register_default_font
        from screens.shell import Shell
        from screens.theme import Theme

        self.font = register_default_font()
        self.frames = frames
        profile = load_profile("gov-hall")
        self.rig = make_rig(profile)
        d = self.rig.session.d
        self.steps = DeferredSteps()
        # What the rig keeps in memory for tests goes where the terminal's goes: envelopes to
        # (here) nowhere, the print journal to a file, as the terminal's.
        self.sink = DroppingSink()
        self._scratch = tempfile.TemporaryDirectory(prefix="kiosk-bench-ui-")
        d.steps, d.sink = self.steps, self.sink
        d.journal = PrintJournal(Path(self._scratch.name) / "print-journal.db")
        theme = Theme(profile.branding)
        frames.window.clearcolor = theme.background
        self.bridge = SessionBridge(self.rig.session, self._show, threaded=False)
        self.shell = Shell(profile, theme, self.bridge, voice=None)
        frames.show(self.shell)
        self.bridge.refresh()
        frames.settle()
        self.shell.collector.started()  # as screens/app.py does once the app has started

    def _show(self, view: Any) -> None:
        self.shell.show(view)

    def target(self, title: str | None) -> Any:
        """The widget a finger aims at for `title` on the current screen, swiped into view
        when its screen scrolls (as a citizen would, untimed)."""
        from screens.widgets import BigButton

        shell = self.shell
        if title is None:
            return shell.manager.current_screen
        for area in (shell.manager.current_screen, shell.top_bar, shell.bottom):
            for w in widgets(area):
                if isinstance(w, BigButton) and w.title == title and not w.disabled:
                    into_view(w, self.frames)
                    return w
        raise RuntimeError(f"no button {title!r} on screen {shell.manager.current}")

    def tap(self, action: Tap) -> list[float]:
        w = self.target(action.title)
        x, y = w.to_window(*w.center)
        seconds = self.frames.tap(x, y, lambda: only(self.shell.manager, action.screen))
        shown = self.shell.manager.current
        if shown != action.screen:
            raise RuntimeError(f"tapped {action.title!r}: {shown!r} drawn, not {action.screen!r}")
        return seconds

    def do(self, action: Do) -> None:
        from devices.camera.protocol import FaceOutcome
        from devices.id_reader.simulator import DEMO_CITIZENS
        from kiosk.session import State
        from screens.shell import IDLE_GC_S

        rig, s = self.rig, self.rig.session
        if action.name in ("identify", "card"):  # the card on the reader, the face shown
            rig.reader.present(DEMO_CITIZENS[0])
            rig.camera.show_face(FaceOutcome.CAPTURED)
        if action.name in ("identify", "card", "face"):
            for _ in range(20):
                rig.tick()
                self.steps.drain()
                if s.state not in (State.IDENTIFY, State.VERIFY):
                    break
            wanted = ("consent",) if action.name == "card" else ("fill", "confirm")
            if s.state.value not in wanted:
                raise RuntimeError(f"{action.name}: the session is in {s.state}, not {wanted}")
            if action.name != "card":
                rig.reader.remove_card()  # the citizen takes the card back
        elif action.name == "type":  # the citizen types on the docked keyboard
            form = self.shell.screens["form"]
            for name, text in (("shop_name", "晨光咖啡"), ("shop_address", "世纪大道100号")):
                form._inputs[name].text = text  # each change is an intent, as typing is
        elif action.name == "steps":  # the submission, the certificate, the printing
            for _ in range(10):
                self.steps.drain()
                if s.state is State.DONE:
                    break
                rig.tick()
            if s.state is not State.DONE:
                raise RuntimeError(f"submitted, but the session is in {s.state}")
        elif action.name == "goodbye":  # the goodbye screen's seconds pass
            self.steps.drain()
            rig.tick(s.d.timings.goodbye_s + 0.1)
            self.steps.drain()
            if s.state is not State.ATTRACT:
                raise RuntimeError(f"after goodbye, the session is in {s.state}")
            # Between citizens the terminal idles on the attract screen: its collector runs
            # then (screens/collector.py), untimed, as nobody is waiting.
            collected = self.shell.collector.collections
            until = time.monotonic() + 3 * IDLE_GC_S
            while self.shell.collector.collections == collected and time.monotonic() < until:
                self.frames.loop.idle()
            if self.shell.collector.collections == collected:
                raise RuntimeError("the collector did not run on the attract screen")
        else:
            assert action.name in ("identify", "card", "face"), action
        self.frames.settle()

    def forget_fakes(self) -> None:
        """The fakes keep what they were given, for tests: not the kiosk's memory."""
        rig = self.rig
        rig.printer.printed.clear()
        rig.a4.printed.clear()
        faces, certificates = rig.session.d.faces, rig.session.d.certificates
        getattr(faces, "asked", []).clear()
        getattr(certificates, "issued", {}).clear()


# ----------------------------------------------------------------------------- the baseline


@dataclass
class Switch:
    """One timed tap of the baseline: from the copy of the kiosk before it to the copy after."""

    label: str
    before: Spec
    after: Spec
    changes: bool = True  # the kiosk went to another screen (not the same one redrawn)
    follows: bool = False  # right after the tap before it (nothing happened in between)


class BareUI:
    """A bare Kivy app: a ScreenManager whose screens are the copies, a tap switching on."""

    def __init__(self, frames: Frames, switches: list[Switch]) -> None:
        from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

        self.frames = frames
        self.manager = ScreenManager(transition=NoTransition())
        self.targets: list[Any] = []
        self.before: list[str] = []  # the screen tap i is made on
        for i, sw in enumerate(switches):
            # Right after the tap before it, the copy drawn then is the one tapped (it was
            # copied twice, after that tap and before this one): no switch in between.
            follows = i > 0 and sw.follows
            found: list[Any] = []
            name = f"a{i - 1}" if follows else f"b{i}"
            before = Screen(name=name)
            before.add_widget(build_spec(sw.before, self._switcher(f"a{i}"), found))
            if len(found) != 1:
                raise RuntimeError(f"{sw.label}: {len(found)} tap targets in the copy")
            self.targets.append(found[0])
            self.before.append(name)
            self.manager.add_widget(before)
            if i + 1 == len(switches) or not switches[i + 1].follows:
                after = Screen(name=f"a{i}")
                after.add_widget(build_spec(sw.after, lambda: None, []))
                self.manager.add_widget(after)

    def _switcher(self, name: str) -> Callable[[], None]:
        return lambda: setattr(self.manager, "current", name)

    def tap(self, i: int) -> list[float]:
        """Switch (untimed) to the copy before tap i, unless it is on already, then tap it."""
        self.frames.show(self.manager)
        if self.manager.current != self.before[i]:
            self.manager.current = self.before[i]
            self.frames.settle()
        w = self.targets[i]
        into_view(w, self.frames)
        x, y = w.to_window(*w.center)
        seconds = self.frames.tap(x, y, lambda: only(self.manager, f"a{i}"))
        if self.manager.current != f"a{i}":
            raise RuntimeError(f"baseline tap {i}: {self.manager.current!r} drawn")
        return seconds


# ----------------------------------------------------------------------------- the workers
def label_of(action: Tap, before: str) -> str:
    return f"{before} -> {action.screen} ({action.title or 'touch'})"


def warm_visit(kiosk: KioskUI, visit: list[Action]) -> list[Switch]:
    """One visit, untimed: the kiosk's tree copied before and after each tap."""
    switches = []
    follows = False
    for action in visit:
        if isinstance(action, Do):
            kiosk.do(action)
            follows = False
            continue
        kiosk.frames.settle()
        before_name = kiosk.shell.manager.current
        before = spec_of(kiosk.shell, kiosk.target(action.title))
        kiosk.tap(action)
        kiosk.frames.settle()
        after = spec_of(kiosk.shell, None)
        switches.append(Switch(label_of(action, before_name), before, after,
                               before_name != action.screen, follows))
        follows = True
    kiosk.forget_fakes()
    return switches


class Pipe:
    """A worker's line-by-line JSON exchange with its parent, on a copy of the stdout it was
    given; whatever else writes to stdout (a library) goes to stderr."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)

    def send(self, message: object) -> None:
        self._out.write(json.dumps(message) + "\n")

    @staticmethod
    def receive() -> Any:
        line = sys.stdin.readline()
        if not line:
            raise SystemExit(0)  # the parent has gone
        return json.loads(line)


def kiosk_worker() -> None:
    """Builds the kiosk, warms it with one visit of each kind (sending their copies), then on
    each "tap" runs the visits on to their next tap and times it."""
    pipe = Pipe()
    frames = Frames(prepare_kivy())
    frames.settle_frames = SETTLE_FRAMES
    kiosk = KioskUI(frames)
    plan = list(visits(kiosk.rig.session))
    switches = [warm_visit(kiosk, v) for v in plan]
    pipe.send({"switches": [[{"label": s.label, "before": s.before, "after": s.after,
                               "changes": s.changes, "follows": s.follows} for s in sw]
                             for sw in switches],
               "clear": list(frames.window.clearcolor), "font": kiosk.font})

    def taps() -> Iterator[tuple[int, int, Tap]]:
        while True:
            for v, visit in enumerate(plan):
                i = 0
                for action in visit:
                    if isinstance(action, Do):
                        kiosk.do(action)
                        continue
                    yield v, i, action
                    i += 1
                kiosk.forget_fakes()

    upcoming = taps()
    while Pipe.receive() == "tap":
        v, i, action = next(upcoming)
        frames.settle()
        pipe.send({"v": v, "i": i, "t": kiosk.tap(action)})


def bare_worker() -> None:
    """Builds the baseline's screens from the kiosk's copies, taps each once, then on each
    [visit, tap] taps that one."""
    pipe = Pipe()
    frames = Frames(prepare_kivy())
    frames.settle_frames = SETTLE_FRAMES
    copies = Pipe.receive()
    from kivy.core.text import LabelBase

    font = copies["font"]
    LabelBase.register("Roboto", font, font, font, font)  # the kiosk's font, as it does
    frames.window.clearcolor = copies["clear"]
    bare = [BareUI(frames, [Switch(s["label"], s["before"], s["after"], s["changes"],
                                   s["follows"]) for s in sw])
            for sw in copies["switches"]]
    for b in bare:
        for i in range(len(b.targets)):
            b.tap(i)
    pipe.send("ready")
    while isinstance(message := Pipe.receive(), list):
        v, i = message
        pipe.send({"t": bare[v].tap(i)})


# ----------------------------------------------------------------------------- the run
def start_worker(module: str, which: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.Popen([sys.executable, "-m", module, "worker", which], cwd=ROOT,
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)


def ask(worker: subprocess.Popen[str], message: object) -> Any:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(json.dumps(message) + "\n")
    worker.stdin.flush()
    return read(worker)


def read(worker: subprocess.Popen[str]) -> Any:
    assert worker.stdout is not None and worker.stderr is not None
    line = worker.stdout.readline()
    if not line:
        worker.wait(30)
        raise RuntimeError(f"the worker stopped: {worker.stderr.read()[-3000:]}")
    return json.loads(line)


def stop(worker: subprocess.Popen[str]) -> None:
    assert worker.stdin is not None
    try:
        worker.stdin.write('"quit"\n')
        worker.stdin.close()
    except OSError:
        pass
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(kiosk: list[float], bare: list[float]) -> dict[str, float]:
    out = {"kiosk_p50_s": statistics.median(kiosk), "kiosk_p95_s": pct(kiosk, 0.95),
           "bare_p50_s": statistics.median(bare), "bare_p95_s": pct(bare, 0.95)}
    out["p95_ratio"] = out["kiosk_p95_s"] / out["bare_p95_s"]
    out["p50_ratio"] = out["kiosk_p50_s"] / out["bare_p50_s"]
    return out


def measure(pairs: int = VISITS) -> dict[str, Any]:
    """`pairs` times a certificate visit and a form visit; each tap once on the kiosk, then
    once on the baseline, each app in a process of its own (its own heap: Python's garbage
    collector walks what the process holds), the two in lockstep. The headline figures are
    the taps to another screen; taps that redraw the same one (a group of services opened,
    a choice on the form) are a figure of their own: the kiosk redraws one screen where the
    baseline still switches."""
    t_start = time.perf_counter()
    kiosk = start_worker("bench.ui_tap", "kiosk")
    bare = start_worker("bench.ui_tap", "bare")
    try:
        copies = read(kiosk)
        ask(bare, copies)
        switches = copies["switches"]
        labels = [[s["label"] for s in sw] for sw in switches]
        widgets_after = {s["label"]: spec_count(s["after"]) for sw in switches for s in sw}
        moving = {s["label"] for sw in switches for s in sw if s["changes"]}
        taps = pairs * sum(len(sw) for sw in switches)
        runs: dict[str, dict[str, list[list[float]]]] = {
            label: {"kiosk": [], "bare": []} for sw in labels for label in sw}
        for _ in range(taps):
            k = ask(kiosk, "tap")
            b = ask(bare, [k["v"], k["i"]])
            label = labels[k["v"]][k["i"]]
            runs[label]["kiosk"].append(k["t"])
            runs[label]["bare"].append(b["t"])
    finally:
        stop(kiosk)
        stop(bare)
    seconds = time.perf_counter() - t_start

    def pick(who: str, which: int, labels: set[str]) -> list[float]:
        return [t[which] for name, run in runs.items() if name in labels for t in run[who]]

    def figures(labels: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"taps": len(pick("kiosk", 1, labels)),
                               "drawn": summary(pick("kiosk", 1, labels),
                                                pick("bare", 1, labels)),
                               "flipped": summary(pick("kiosk", 0, labels),
                                                  pick("bare", 0, labels)),
                               "cpu": summary(pick("kiosk", 5, labels), pick("bare", 5, labels))}
        for who in ("kiosk", "bare"):
            every = [t for name, run in runs.items() if name in labels for t in run[who]]
            full = [t for t in every if t[3] > 0]
            rest = [t[1] for t in every if t[3] == 0]
            out[who] = {
                "frames_mean": statistics.mean(t[4] for t in every),
                "taps_with_full_collection": len(full),
                "full_collection_ms_mean": statistics.mean(t[2] for t in full) * 1000
                if full else 0.0,
                "collector_share": sum(t[2] for t in every) / sum(t[1] for t in every),
                "drawn_p95_without_full_collections_s": pct(rest, 0.95) if rest else math.nan}
        return out

    return {
        "taps": taps, "seconds": seconds,
        "widgets_min": min(widgets_after.values()), "widgets_max": max(widgets_after.values()),
        "to_another_screen": figures(moving),
        "same_screen": figures(set(runs) - moving) if set(runs) - moving else None,
        "per_tap": {label: {**figures({label}), "widgets": widgets_after[label]}
                    for label in runs},
    }


def report(r: dict[str, Any], *, detail: bool) -> None:
    m = r["to_another_screen"]
    print(f"  {m['taps']} taps to another screen ({r['widgets_min']}-{r['widgets_max']} widgets "
          f"a screen):")
    for key, what in (("drawn", "to the new screen's frame drawn (glFinish)"),
                      ("flipped", "to its flip returning (GL work queued)"),
                      ("cpu", "the UI thread's CPU time to the flip")):
        f = m[key]
        print(f"    {what}:")
        print(f"      bare Kivy ScreenManager switch   p50 {f['bare_p50_s'] * 1000:6.1f} ms   "
              f"p95 {f['bare_p95_s'] * 1000:6.1f} ms")
        print(f"      kiosk Shell + Session            p50 {f['kiosk_p50_s'] * 1000:6.1f} ms   "
              f"p95 {f['kiosk_p95_s'] * 1000:6.1f} ms   p95 ratio {f['p95_ratio']:5.2f}x bare"
              + (" (asked: <= 1.3x)" if key == "drawn" else "") + f"; p50 {f['p50_ratio']:.2f}x")
    k, b = m["kiosk"], m["bare"]
    print(f"    garbage collector: {k['taps_with_full_collection']} of {m['taps']} kiosk taps ran "
          f"a full collection ({k['full_collection_ms_mean']:.0f} ms each; bare: "
          f"{b['taps_with_full_collection']}), {k['collector_share'] * 100:.0f} % of the kiosk's"
          f" tap time (bare {b['collector_share'] * 100:.0f} %); kiosk drawn p95 without them "
          f"{k['drawn_p95_without_full_collections_s'] * 1000:.1f} ms; frames a tap "
          f"{k['frames_mean']:.1f} (bare {b['frames_mean']:.1f})")
    same = r["same_screen"]
    if same is not None:
        print(f"  {same['taps']} taps redrawing the same screen (the baseline still switches): "
              f"drawn p95 kiosk {same['drawn']['kiosk_p95_s'] * 1000:.1f} ms, bare "
              f"{same['drawn']['bare_p95_s'] * 1000:.1f} ms ({same['drawn']['p95_ratio']:.2f}x);"
              f" flip p50 {same['flipped']['kiosk_p50_s'] * 1000:.1f} vs "
              f"{same['flipped']['bare_p50_s'] * 1000:.1f} ms")
    rows = sorted(r["per_tap"].items(), key=lambda kv: -kv[1]["drawn"]["p95_ratio"])
    print("  each tap, worst first:" if detail else "  the worst taps:")
    for label, row in rows if detail else rows[:3]:
        d, f = row["drawn"], row["flipped"]
        print(f"    {label:<40} drawn p95 {d['kiosk_p95_s'] * 1000:6.1f} ms vs "
              f"{d['bare_p95_s'] * 1000:5.1f} ms ({d['p95_ratio']:.2f}x); flip p50 "
              f"{f['kiosk_p50_s'] * 1000:5.1f} vs {f['bare_p50_s'] * 1000:4.1f} ms; "
              f"{row['widgets']} widgets")


def main() -> None:
    if sys.argv[1:2] == ["worker"]:
        {"kiosk": kiosk_worker, "bare": bare_worker}[sys.argv[2]]()
        return
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else VISITS
    r = measure(pairs)
    print(f"tap to the next screen drawn, {r['taps']} taps each, kiosk and bare in lockstep "
          f"({r['seconds']:.0f} s):")
    report(r, detail=True)


if __name__ == "__main__":
    main()
