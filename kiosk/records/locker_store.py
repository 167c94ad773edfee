"""Which locker door holds whose certificate, kept on disk so a restart forgets nothing.

Citizens are stored only as the hash of their ID number. Staff loading (a later issue) adds
entries; a confirmed collection removes one.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LockerItem:
    door: int
    citizen_hash: str
    title_zh: str
    title_en: str


class LockerInventory:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._items: dict[int, LockerItem] = {}
        if path is not None and path.exists():
            for raw in json.loads(path.read_text(encoding="utf-8")):
                item = LockerItem(**raw)
                self._items[item.door] = item

    def items(self) -> list[LockerItem]:
        with self._lock:
            return sorted(self._items.values(), key=lambda i: i.door)

    def for_citizen(self, citizen_hash: str) -> list[LockerItem]:
        return [i for i in self.items() if i.citizen_hash == citizen_hash]

    def load(self, item: LockerItem) -> None:
        with self._lock:
            self._items[item.door] = item
            self._save()

    def collected(self, door: int) -> None:
        with self._lock:
            self._items.pop(door, None)
            self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        data = [i.__dict__ for i in sorted(self._items.values(), key=lambda i: i.door)]
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path)
