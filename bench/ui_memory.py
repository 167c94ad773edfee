"""The UI process's memory over citizen sessions: the kiosk's Shell and Session against a bare
Kivy app. `python -m bench.ui_memory [SESSIONS]` (BENCH_UI_SESSIONS, 50).

Each side runs in a fresh process (like bench/cold_start.py), offscreen in the kiosk's
1080x1920 window with its Kivy settings; the two run side by side (memory does not mind
sharing the CPU). The kiosk: the real Shell on a real Session with the scene rig's fake
devices (bench/ui_tap.py's KioskUI), whole citizen sessions tapped through it: a certificate
(touch -> 我要办 -> 户籍证明 -> the card on the reader -> the face check's consent -> the face
-> 确认并出具证明 -> 完成 -> the rating -> goodbye -> attract) or an application with a form
(... 我要开店 -> 我要开咖啡店 -> card, consent, face -> typing and a choice -> 下一步 ->
确认提交 -> ...), three certificates and two forms in every five. The baseline: a bare Kivy
app, a ScreenManager holding one copy of each screen the kiosk drew (the same widget tree,
words and backgrounds: screen_copy.spec_of), switched through in the same order each session, by
a tap where the kiosk was tapped and directly where the kiosk moved on by itself. Every
state is drawn (one frame each).

After sessions 5, 10, ...: VmRSS after a full garbage collection (the figure and its ratio),
again after malloc_trim (what the C allocator keeps is noise to a slope), and the objects the
collector tracks; growth per session is the least-squares slope over sessions 10..N.

The rig's fakes keep for tests what they are given (receipts and certificate PDFs printed,
faces asked, certificates issued): they are emptied after each session; envelopes and the
print journal go where the terminal's go (not kept; a file), so that what is measured is the
UI's and the session's memory, not the fakes'.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = int(os.environ.get("BENCH_UI_SESSIONS", "50"))
EVERY = 5
FIRST_IN_SLOPE = 10
SETTLE_FRAMES = 1  # each state drawn once (a frame is ~60 ms in llvmpipe): not 25 minutes


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def sample(after: int, series: dict[str, list[list[Any]]], flips: list[float]) -> None:
    """RSS after a full collection; then again once the C allocator has given back what it
    can (malloc_trim: what it keeps is noise to a slope); the objects the collector tracks;
    the UI thread's mean CPU time from a tap to its frame's flip since the last sample
    (`flips`, emptied)."""
    import ctypes

    series["tap_cpu_ms"].append([after, sum(flips) / max(1, len(flips)) * 1000])
    flips.clear()
    gc.collect()
    series["rss_kib"].append([after, rss_kib()])
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    series["trimmed_rss_kib"].append([after, rss_kib()])
    # The frozen too: the kiosk's collector freezes what is alive at each return to attract.
    series["objects"].append([after, len(gc.get_objects()) + gc.get_freeze_count()])


def visit_of(n: int) -> int:
    """Session n's visit: 0 a certificate, 1 an application with a form; three certificates
    and two forms in every five, so that each sample (after sessions 5, 10, ...) follows a
    certificate: what a session leaves behind until the next one depends on its kind."""
    return 0 if n % EVERY in (1, 3, 0) else 1


def kiosk(sessions: int, copies_out: Path) -> dict[str, Any]:
    """Whole sessions through the kiosk; the copies of its screens (one a screen name, with
    the tapped button marked) and each visit's moves are written to `copies_out`."""
    from bench import screen_copy, ui_tap
    from bench.ui_tap import Do, Tap

    frames = ui_tap.Frames(ui_tap.prepare_kivy())
    frames.settle_frames = SETTLE_FRAMES
    ui = ui_tap.KioskUI(frames)
    plan = list(ui_tap.visits(ui.rig.session))
    shell = ui.shell
    tapped: dict[str, Any] = {}  # a copy of each screen tapped from, the button marked
    seen: dict[str, Any] = {}  # a copy of each screen as first drawn
    moves: list[list[list[str]]] = []  # per visit: [how, from, to], how = "tap" or "do"
    series: dict[str, list[list[Any]]] = {"rss_kib": [], "trimmed_rss_kib": [], "objects": [],
                                          "tap_cpu_ms": []}
    flips: list[float] = []
    for n in range(1, sessions + 1):
        record = n <= len(plan)
        visit_moves = []
        for action in plan[visit_of(n)]:
            before = shell.manager.current
            if isinstance(action, Tap):
                if record and before not in tapped:
                    tapped[before] = screen_copy.spec_of(shell, ui.target(action.title))
                flips.append(ui.tap(action)[5])  # its frame draws the new state
            else:
                assert isinstance(action, Do)
                ui.do(action)
            after = shell.manager.current
            if record:
                visit_moves.append(["tap" if isinstance(action, Tap) else "do", before, after])
                if after not in seen:
                    seen[after] = screen_copy.spec_of(shell, None)
        ui.forget_fakes()
        if record:
            moves.append(visit_moves)
        if n == len(plan):
            partial = copies_out.with_suffix(".partial")
            partial.write_text(json.dumps({
                "copies": {**seen, **tapped}, "moves": moves, "font": ui.font,
                "clear": list(frames.window.clearcolor)}))
            partial.rename(copies_out)  # the baseline's process is waiting for it
            tapped, seen, moves = {}, {}, []
        if n % EVERY == 0:
            sample(n, series, flips)
    return {**series, "envelopes": ui.sink.count}


def bare(sessions: int, copies_in: Path) -> dict[str, Any]:
    """The same number of screen switches per session through a bare Kivy ScreenManager."""
    from bench import screen_copy, ui_tap

    frames = ui_tap.Frames(ui_tap.prepare_kivy())
    frames.settle_frames = SETTLE_FRAMES
    from kivy.core.text import LabelBase
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    deadline = time.monotonic() + 300
    while not copies_in.exists():  # the kiosk's process writes them after its first visits
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {copies_in} from the kiosk's process")
        time.sleep(0.05)
    given = json.loads(copies_in.read_text())
    font = given["font"]
    LabelBase.register("Roboto", font, font, font, font)  # the kiosk's font, as it does
    frames.window.clearcolor = given["clear"]
    manager = ScreenManager(transition=NoTransition())
    going_to = [""]
    targets: dict[str, Any] = {}
    for name, spec in given["copies"].items():
        screen = Screen(name=name)
        found: list[Any] = []
        screen.add_widget(screen_copy.build_spec(
            spec, lambda: setattr(manager, "current", going_to[0]), found))
        if found:
            targets[name] = found[0]
        manager.add_widget(screen)
    manager.current = "attract"
    frames.show(manager)
    moves = given["moves"]
    series: dict[str, list[list[Any]]] = {"rss_kib": [], "trimmed_rss_kib": [], "objects": [],
                                          "tap_cpu_ms": []}
    flips: list[float] = []
    for n in range(1, sessions + 1):
        for how, before, after in moves[visit_of(n)]:
            if manager.current != before:
                raise RuntimeError(f"bare session {n}: on {manager.current!r}, not {before!r}")
            going_to[0] = after
            if how == "tap":
                w = targets[before]
                ui_tap.into_view(w, frames)
                x, y = w.to_window(*w.center)
                try:  # its frames draw the new screen
                    flips.append(frames.tap(x, y, lambda: ui_tap.only(manager, going_to[0]),
                                            limit=5)[5])
                except RuntimeError:  # the same screen again: nothing of a bare one changes
                    if after != before:
                        raise
            else:
                manager.current = after
                frames.settle()
        if n % EVERY == 0:
            sample(n, series, flips)
    return series


def slope(points: list[list[int]]) -> float:
    """Least squares: KiB (or objects) per session over the sessions from FIRST_IN_SLOPE
    (all of them in a run too short for two samples from there)."""
    first = FIRST_IN_SLOPE if sum(x >= FIRST_IN_SLOPE for x, _ in points) >= 2 else 0
    xs = [float(x) for x, _ in points if x >= first]
    ys = [float(y) for x, y in points if x >= first]
    if len(xs) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / \
        sum((x - mx) ** 2 for x in xs)


def start(which: str, sessions: int, copies: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.Popen([sys.executable, "-m", "bench.ui_memory", which, str(sessions),
                             str(copies)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)


def result_of(worker: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = worker.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        raise
    if worker.returncode != 0:
        raise RuntimeError(err[-3000:])
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(sessions: int = SESSIONS) -> dict[str, Any]:
    """The kiosk's process and the baseline's side by side (memory does not mind sharing the
    CPU; the time does): the baseline starts once the kiosk has written its copies."""
    import tempfile

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-ui-memory-") as d:
        copies = Path(d) / "copies.json"
        kiosk_worker = start("kiosk", sessions, copies)
        bare_worker = start("bare", sessions, copies)
        try:
            k = result_of(kiosk_worker)
        finally:
            if kiosk_worker.returncode != 0 and bare_worker.poll() is None:
                bare_worker.kill()
        b = result_of(bare_worker)
    result: dict[str, Any] = {"sessions": sessions, "seconds": time.perf_counter() - t0}
    for name, series in (("kiosk", k), ("bare", b)):
        result[name] = {
            "rss_kib": series["rss_kib"],
            "final_rss_mb": series["rss_kib"][-1][1] / 1024,
            "slope_kib_per_session": slope(series["rss_kib"]),
            "trimmed_slope_kib_per_session": slope(series["trimmed_rss_kib"]),
            "objects_per_session": slope(series["objects"]),
            "final_objects": series["objects"][-1][1],
            "tap_cpu_ms": series["tap_cpu_ms"],
        }
    result["ratio"] = result["kiosk"]["final_rss_mb"] / result["bare"]["final_rss_mb"]
    return result


def report(r: dict[str, Any]) -> None:
    for name, what in (("bare", "bare Kivy ScreenManager"), ("kiosk", "kiosk Shell + Session")):
        m = r[name]
        print(f"  {what:<24} RSS {m['final_rss_mb']:6.1f} MB after {r['sessions']}   growth "
              f"{m['slope_kib_per_session']:+7.1f} KiB/session (trimmed "
              f"{m['trimmed_slope_kib_per_session']:+.1f}; {m['objects_per_session']:+.0f} "
              f"objects/session)" + (f"   ratio {r['ratio']:4.2f}x bare (asked: <= 1.5x, flat;"
                                     f" +{m['final_rss_mb'] - r['bare']['final_rss_mb']:.0f} MB)"
                                     if name == "kiosk" else ""))
    k, b = r["kiosk"]["tap_cpu_ms"], r["bare"]["tap_cpu_ms"]
    early = 1 if len(k) > 2 else 0  # the first five build every screen a first time
    print(f"    the UI thread's CPU from a tap to its flip, mean over sessions "
          f"{k[early][0] - EVERY + 1}-{k[early][0]} / {k[-1][0] - EVERY + 1}-{k[-1][0]}: kiosk "
          f"{k[early][1]:.1f} / {k[-1][1]:.1f} ms, bare {b[early][1]:.1f} / {b[-1][1]:.1f} ms")
    print(f"    RSS MB after sessions {', '.join(str(x) for x, _ in r['kiosk']['rss_kib'])} "
          f"(slopes over {FIRST_IN_SLOPE if r['sessions'] >= FIRST_IN_SLOPE + EVERY else EVERY}"
          f"..{r['sessions']}): kiosk "
          + " ".join(f"{y / 1024:.1f}" for _, y in r["kiosk"]["rss_kib"])
          + "; bare " + " ".join(f"{y / 1024:.1f}" for _, y in r["bare"]["rss_kib"]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("kiosk", "bare"):
        which, sessions, copies = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
        result = kiosk(sessions, copies) if which == "kiosk" else bare(sessions, copies)
        print(json.dumps(result), flush=True)
        return
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else SESSIONS
    r = measure(sessions)
    print(f"UI process memory, {sessions} citizen sessions in a fresh process each "
          f"({r['seconds']:.0f} s):")
    report(r)


if __name__ == "__main__":
    main()
