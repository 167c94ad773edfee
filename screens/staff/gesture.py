"""The hidden way in for staff: nothing on the citizen's screens shows it.

On the top bar's info row (the hall's name on the left, the clock on the right): a long press
on the left corner (LONG_PRESS_S), then, within PATTERN_S of letting go, quick taps right,
left, right. Anything else in between starts it over. A citizen resting a hand on the bar, or
tapping it, does not get in: the long press alone opens nothing, and the pattern alone neither.
The shell decides whether the entry may open now (never over a citizen's data, unless they
called for help)."""

from __future__ import annotations

LONG_PRESS_S = 3.0
TAP_S = 0.8  # a tap of the pattern: down and up within this
PATTERN_S = 6.0
PATTERN = ("right", "left", "right")


class EntryGesture:
    def __init__(self) -> None:
        self._armed_at: float | None = None
        self._taps: list[str] = []

    def press(self, corner: str | None, down_at: float, up_at: float) -> bool:
        """A touch on the info row that went down at `down_at` and up at `up_at`, in the
        `corner` ("left", "right", or None: elsewhere). True when the gesture is complete."""
        held = up_at - down_at
        if corner == "left" and held >= LONG_PRESS_S:
            self._armed_at, self._taps = up_at, []
            return False
        if self._armed_at is None or corner is None or held > TAP_S \
                or up_at - self._armed_at > PATTERN_S:
            self.reset()
            return False
        self._taps.append(corner)
        if tuple(self._taps) != PATTERN[:len(self._taps)]:
            self.reset()
            return False
        if len(self._taps) == len(PATTERN):
            self.reset()
            return True
        return False

    def reset(self) -> None:
        self._armed_at, self._taps = None, []
