"""The UI's garbage collector policy (screens/collector.py): no full collection during a
session, everything collected (the frozen too) once the terminal is idle again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator

import pytest

from screens.collector import IDLE_OLDEST, SESSION_OLDEST, Collector


@pytest.fixture(autouse=True)
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


def test_a_session_defers_full_collections_and_idle_restores_them() -> None:
    c = Collector()
    c.started()
    assert gc.get_threshold()[2] == IDLE_OLDEST
    c.on_state(idle=False)
    assert gc.get_threshold()[2] == SESSION_OLDEST
    c.on_state(idle=True)
    assert gc.get_threshold()[2] == IDLE_OLDEST
    assert c.collections == 1


def test_garbage_frozen_with_the_app_is_collected_when_idle() -> None:
    c = Collector()
    held, alive = cycle()
    c.started()  # frozen with everything else
    del held
    c.on_state(idle=False)
    gc.collect()  # a collection as Python would make it: the frozen are not looked at
    assert alive() is not None
    c.on_state(idle=True)
    assert alive() is None


def test_the_collection_waits_for_the_frame_and_not_for_a_citizen() -> None:
    waiting: list[Callable[[], None]] = []
    c = Collector(waiting.append)
    c.started()
    c.on_state(idle=False)
    c.on_state(idle=True)
    assert c.collections == 0 and len(waiting) == 1  # after the attract frame is drawn
    c.on_state(idle=False)  # a touch came first
    waiting.pop()()
    assert c.collections == 0
    c.on_state(idle=False)  # a view of the same session: nothing new
    assert not waiting
