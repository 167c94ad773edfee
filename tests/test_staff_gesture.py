"""The hidden staff entry's gesture: a long press on the left corner, then right, left, right
quickly; nothing else opens it, and any slip starts it over."""

from __future__ import annotations

from screens.staff.gesture import LONG_PRESS_S, PATTERN_S, EntryGesture


def run(presses: list[tuple[str | None, float, float]]) -> list[bool]:
    g = EntryGesture()
    return [g.press(c, down, up) for c, down, up in presses]


def long_press(at: float = 0.0) -> tuple[str, float, float]:
    return ("left", at, at + LONG_PRESS_S + 0.1)


def tap(corner: str | None, at: float) -> tuple[str | None, float, float]:
    return (corner, at, at + 0.1)


def test_long_press_then_right_left_right_opens() -> None:
    assert run([long_press(), tap("right", 4), tap("left", 5), tap("right", 6)]) == \
        [False, False, False, True]


def test_neither_half_alone_opens_and_a_slip_starts_over() -> None:
    assert not any(run([tap("right", 0), tap("left", 1), tap("right", 2)]))  # no long press
    assert not any(run([long_press(), tap("left", 4), tap("left", 5), tap("right", 6)]))
    assert not any(run([long_press(), tap("right", 4), tap(None, 4.5), tap("left", 5),
                        tap("right", 6)]))  # a touch elsewhere in between
    assert not any(run([("left", 0, 2.0), tap("right", 3), tap("left", 3.5),
                        tap("right", 4)]))  # the press too short
    slow = 3.1 + PATTERN_S
    assert not any(run([long_press(), tap("right", 4), tap("left", 5), tap("right", slow)]))
    assert not any(run([long_press(), ("right", 4, 5.5), tap("left", 6), tap("right", 7)]))


def test_it_can_be_done_again_after_a_slip() -> None:
    assert run([long_press(), tap("left", 4), long_press(10), tap("right", 14),
                tap("left", 15), tap("right", 16)])[-1]
