"""Pinyin to Chinese characters for the on-screen keyboard, from the Rime dictionary Debian
ships (`rime-data-pinyin-simp`): nothing is downloaded, nothing is trained, no Kivy here.

The dictionary is a YAML header and then lines `词<TAB>ci<TAB>weight` (about 65,000 single
characters and phrases of up to four syllables). It is read once, on first use, into two
indexes: phrases by their tuple of syllables, and phrases of two or more syllables by their
initials (`kfd` → 咖啡店). The syllables themselves (about 400) come from the dictionary too.

Typed letters are cut into syllables, the last one possibly unfinished (`kafeid` → ka fei d…).
Where there is more than one way to cut them, the ways with the fewest syllables are preferred
(`chenguang` is chen guang, not che n guang); `fangan` has two (fang an 方案, fan gan 反感) and
both are offered. Phrases of the first syllables only come along a preferred cut (no 车 for
chenguang); the whole input, by any cut (`xian` is 先 and also 西安). Candidates come in this
order: those that use more of the typed letters first (the whole input before phrases of its
first syllables, before characters of the first syllable); among those that use as many,
whole syllables before completions of an unfinished last one, before initials
abbreviations; then by the dictionary's weight, then by the text itself (so the order never
depends on the run).
Letters that cannot be read as pinyin from some point on are left alone (no candidate uses
them); input that is not pinyin at all has no candidates.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kiosk.config.errors import ConfigError

log = logging.getLogger(__name__)

DICTIONARY = Path("/usr/share/rime-data/pinyin_simp.dict.yaml")
DEBIAN_PACKAGE = "rime-data-pinyin-simp"
# A composition longer than this is not a word any more; it also bounds the work per key.
MAX_LETTERS = 40
# How many candidates a composition offers in all (pages of them); nobody pages further.
MAX_CANDIDATES = 120
VOWELS = frozenset("aeiouv")

# Ranks among candidates that use as many letters (lower is offered first).
EXACT, COMPLETION, ABBREVIATION = 0, 1, 2


class DictionaryMissing(ConfigError):
    """The pinyin dictionary is not installed: start-up stops and says what to install."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """What may be typed for the letters: `text`, using the first `consumed` of them."""

    text: str
    consumed: int


Entry = tuple[str, int]  # (text, weight)


@dataclass(frozen=True, slots=True)
class PinyinDictionary:
    phrases: dict[tuple[str, ...], list[Entry]]
    """Every entry by its syllables."""
    by_initials: dict[tuple[str, ...], list[Entry]]
    """Entries of two or more syllables by their initials (zh, ch, sh or one letter)."""
    completions: dict[str, tuple[str, ...]]
    """Every beginning of a syllable (the syllable itself included) -> the syllables."""
    syllables: frozenset[str]
    longest_syllable: int
    longest_phrase: int


def initial(syllable: str) -> str:
    return syllable[:2] if syllable[:2] in ("zh", "ch", "sh") else syllable[:1]


def parse_dictionary(lines: Iterable[str]) -> PinyinDictionary:
    """Read a Rime `.dict.yaml`: the entries follow the line `...` that ends its header."""
    phrases: dict[tuple[str, ...], list[Entry]] = {}
    in_header = True
    for raw in lines:
        line = raw.rstrip("\r\n")
        if in_header:
            in_header = line.rstrip() != "..."
            continue
        if not line or line[0] == "#":
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0]:
            continue
        code = fields[1]
        if not (code.isascii() and code.replace(" ", "").isalpha() and code.islower()):
            continue
        try:
            weight = int(fields[2]) if len(fields) > 2 else 0
        except ValueError:
            weight = 0
        # One string object per syllable, shared by every key that has it.
        key = tuple(map(sys.intern, code.split()))
        entries = phrases.get(key)
        if entries is None:
            phrases[key] = [(fields[0], weight)]
        else:
            entries.append((fields[0], weight))
    syllables = {s for key in phrases for s in key}
    by_initials: dict[tuple[str, ...], list[Entry]] = {}
    for key, entries in phrases.items():
        if len(key) > 1:
            by_initials.setdefault(tuple(initial(s) for s in key), []).extend(entries)
    completions: dict[str, list[str]] = {}
    for syllable in sorted(syllables):
        for end in range(1, len(syllable) + 1):
            completions.setdefault(syllable[:end], []).append(syllable)
    return PinyinDictionary(
        phrases=phrases, by_initials=by_initials,
        completions={k: tuple(v) for k, v in completions.items()},
        syllables=frozenset(syllables), longest_syllable=max(map(len, syllables), default=0),
        longest_phrase=max(map(len, phrases), default=0))


@lru_cache(maxsize=4)
def load_dictionary(path: Path) -> PinyinDictionary:
    """The dictionary at `path`, read once per process: about 0.2 s and 21 MB here for
    Debian's (65,000 lines). No default path: one cache entry per file, however called."""
    try:
        with path.open(encoding="utf-8") as lines:
            return parse_dictionary(lines)
    except FileNotFoundError:
        raise DictionaryMissing(
            f"the pinyin dictionary {path} is missing, so Chinese cannot be typed; install it "
            f"with `apt-get install {DEBIAN_PACKAGE}` (the set-up script does this)") from None


def _fold(letters: str) -> str:
    """Upper case folds to lower case; anything else not a-z stays and stops the reading."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in letters)


_loading = threading.Lock()  # one reading of a dictionary, however many threads ask at once


class PinyinEngine:
    """Candidates for typed pinyin letters. The dictionary is read on first use; at start-up
    call `check()` (a missing package stops the kiosk there, not at the first keystroke), then
    `load()`, or `load_in_background()` once the first frame is up."""

    def __init__(self, path: Path = DICTIONARY) -> None:
        self.path = path

    def check(self) -> None:
        """DictionaryMissing unless the dictionary can be opened (without reading it)."""
        try:
            with self.path.open(encoding="utf-8"):
                pass
        except FileNotFoundError:
            load_dictionary(self.path)  # raises DictionaryMissing, with what to install

    def load(self) -> PinyinDictionary:
        with _loading:
            return load_dictionary(self.path)

    def load_in_background(self) -> threading.Thread:
        """Read the dictionary on a thread of its own (a first keystroke before it is done
        waits for it)."""
        def read() -> None:
            try:
                self.load()
            except Exception:  # said again, to whoever types first
                log.exception("the pinyin dictionary could not be read")

        thread = threading.Thread(target=read, name="pinyin-dictionary", daemon=True)
        thread.start()
        return thread

    def segments(self, letters: str) -> list[str]:
        """The letters cut as they will be read: `kafeid` -> ['ka', 'fei', 'd'];
        letters that cannot be read come last, as typed, in one piece."""
        s = _fold(letters)
        if not s:
            return []
        d = self.load()
        initials = self._initials(s)
        if initials is not None and len(initials) > 1:
            return initials
        end = self._readable(s, d)
        cost = self._costs(s[:end], d)
        pieces, i = [], 0
        while i < end:
            # Among the cuts with fewest pieces, the longest first piece (fang an, not fan gan).
            for j in range(min(end, i + d.longest_syllable), i, -1):
                if cost[j] == cost[i] - 1 and self._piece_ok(s[i:j], j == end, d):
                    pieces.append(s[i:j])
                    i = j
                    break
            else:  # cannot happen: s[:end] cuts, by how `end` was found
                break
        if i < len(s):
            pieces.append(letters[i:])
        return pieces

    def candidates(self, letters: str, limit: int = MAX_CANDIDATES) -> list[Candidate]:
        s = _fold(letters[:MAX_LETTERS])
        if not s or limit <= 0:
            return []
        d = self.load()
        found: list[tuple[int, int, int, str, int]] = []  # (-consumed, rank, -weight, text)
        end = self._readable(s, d)
        if end:
            self._readings(s[:end], d, found)
        initials = self._initials(s)
        if initials is not None:
            used = 0
            for k in range(1, min(len(initials), d.longest_phrase) + 1):
                used += len(initials[k - 1])
                if k > 1:
                    for text, weight in d.by_initials.get(tuple(initials[:k]), ()):
                        found.append((-used, ABBREVIATION, -weight, text, used))
        out: list[Candidate] = []
        seen: set[str] = set()
        found.sort()  # a few thousand at most (one consonant typed): a millisecond or two
        for _, _, _, text, consumed in found:  # the same text may come by several readings
            if text not in seen:
                seen.add(text)
                out.append(Candidate(text, consumed))
                if len(out) == limit:
                    break
        return out

    # -- reading the letters

    @staticmethod
    def _piece_ok(piece: str, last: bool, d: PinyinDictionary) -> bool:
        """A whole syllable, or (the last piece only) the beginning of one."""
        return piece in d.syllables or (last and piece in d.completions)

    def _readable(self, s: str, d: PinyinDictionary) -> int:
        """How many of the letters can be read as pinyin (the last syllable unfinished)."""
        n, longest = len(s), d.longest_syllable
        whole = [False] * (n + 1)  # s[:j] cut into whole syllables
        whole[0] = True
        end = 0
        for i in range(n):
            if not whole[i]:
                continue
            for j in range(i + 1, min(n, i + longest) + 1):
                piece = s[i:j]
                if piece not in d.completions:
                    break  # no syllable begins so: nor will a longer piece
                end = max(end, j)
                if piece in d.syllables:
                    whole[j] = True
        return end

    def _costs(self, s: str, d: PinyinDictionary) -> list[float]:
        """cost[i]: the fewest pieces s[i:] cuts into (inf: it does not cut)."""
        n = len(s)
        cost = [math.inf] * (n + 1)
        cost[n] = 0
        for i in range(n - 1, -1, -1):
            for j in range(i + 1, min(n, i + d.longest_syllable) + 1):
                if cost[j] + 1 < cost[i] and self._piece_ok(s[i:j], j == n, d):
                    cost[i] = cost[j] + 1
        return cost

    def _readings(self, s: str, d: PinyinDictionary,
                  found: list[tuple[int, int, int, str, int]]) -> None:
        """Phrases of the first one to four syllables of `s` (all of it readable)."""
        n = len(s)
        cost = self._costs(s, d)
        best = cost[0]

        def add(entries: Iterable[Entry], used: int, rank: int) -> None:
            found.extend((-used, rank, -w, text, used) for text, w in entries)

        def walk(i: int, path: tuple[str, ...]) -> None:
            for j in range(i + 1, min(n, i + d.longest_syllable) + 1):
                piece = s[i:j]
                if math.isinf(cost[j]) or not self._piece_ok(piece, j == n, d):
                    continue
                pieces = len(path) + 1
                preferred = pieces + cost[j] == best
                if j == n:
                    for syllable in d.completions[piece]:
                        # The whole input by any cut (xian: 先 and 西安, by weight).
                        rank = EXACT if syllable == piece else COMPLETION
                        add(d.phrases.get((*path, syllable), ()), n, rank)
                elif preferred:
                    # A shorter phrase only along a preferred cut: chenguang does not
                    # offer 车 (che, leaving n guang).
                    add(d.phrases.get((*path, piece), ()), j, EXACT)
                if j < n and pieces < d.longest_phrase:
                    walk(j, (*path, piece))

        walk(0, ())

    @staticmethod
    def _initials(s: str) -> list[str] | None:
        """`kfd` -> ['k', 'f', 'd']; None when the letters are not initials only."""
        if not s.isascii() or not s.isalpha() or VOWELS & set(s):
            return None
        out, i = [], 0
        while i < len(s):
            step = 2 if s[i:i + 2] in ("zh", "ch", "sh") else 1
            out.append(s[i:i + step])
            i += step
        return out


class Composer:
    """One composition: the letters typed so far and the candidates offered for them, a page
    at a time. A page holds at most `page_size` candidates and, when `measure` is given, only
    as many as fit in `page_width` (at least one)."""

    def __init__(self, engine: PinyinEngine, page_size: int = 5, *,
                 measure: Callable[[str], float] | None = None,
                 page_width: float = math.inf) -> None:
        self.engine = engine
        self.page_size = max(1, page_size)
        self.measure = measure
        self.page_width = page_width
        self._letters = ""
        self._all: list[Candidate] | None = None
        self._starts = [0]  # where each page shown so far began

    @property
    def letters(self) -> str:
        return self._letters

    @property
    def composing(self) -> bool:
        return bool(self._letters)

    @property
    def preedit(self) -> str:
        """The letters as they are read, one space between syllables: "ka fei"."""
        return " ".join(self.engine.segments(self._letters))

    @property
    def candidates(self) -> list[Candidate]:
        if self._all is None:
            self._all = self.engine.candidates(self._letters, MAX_CANDIDATES)
        return self._all

    def type(self, letter: str) -> bool:
        """Add a letter a-z (A-Z is folded); anything else is refused (returns False)."""
        if len(letter) != 1 or not ("a" <= letter.lower() <= "z" and letter.isascii()):
            return False
        if len(self._letters) >= MAX_LETTERS:
            return False
        self._set(self._letters + letter.lower())
        return True

    def backspace(self) -> bool:
        """Drop the last letter; False when there was none (then the field's character goes)."""
        if not self._letters:
            return False
        self._set(self._letters[:-1])
        return True

    def clear(self) -> None:
        self._set("")

    def choose(self, i: int) -> str:
        """The text of the `i`th candidate of the page shown; the letters it used are done
        with, the rest stay composing."""
        chosen = self.page[i]
        self._set(self._letters[chosen.consumed:])
        return chosen.text

    def finish(self) -> str:
        """Everything typed, as text: the first candidate of the page shown, then the first
        of each next composition, and what cannot be read as the letters typed (nothing the
        citizen typed vanishes)."""
        out = []
        while self._letters:
            before = self._letters
            out.append(self.choose(0) if self.page else self.take_letters())
            if self._letters == before:  # cannot happen (consumed >= 1): never loop on it
                out.append(self.take_letters())
        return "".join(out)

    def take_letters(self) -> str:
        """The letters as typed, and the composition ends (switching to Latin letters)."""
        letters = self._letters
        self._set("")
        return letters

    # -- pages

    @property
    def page(self) -> list[Candidate]:
        start = self._starts[-1]
        return self.candidates[start:self._page_end(start)]

    @property
    def page_number(self) -> int:
        return len(self._starts) - 1

    @property
    def has_next_page(self) -> bool:
        start = self._starts[-1]
        return self._page_end(start) < len(self.candidates)

    @property
    def has_previous_page(self) -> bool:
        return len(self._starts) > 1

    def next_page(self) -> bool:
        if not self.has_next_page:
            return False
        self._starts.append(self._page_end(self._starts[-1]))
        return True

    def previous_page(self) -> bool:
        if not self.has_previous_page:
            return False
        self._starts.pop()
        return True

    def first_page(self) -> None:
        """Back to the first page (the page's size or width changed)."""
        self._starts = [0]

    def _page_end(self, start: int) -> int:
        cands = self.candidates
        end, used = start, 0.0
        while end < len(cands) and end - start < self.page_size:
            width = self.measure(cands[end].text) if self.measure is not None else 0.0
            if end > start and used + width > self.page_width:
                break
            used += width
            end += 1
        return end

    def _set(self, letters: str) -> None:
        self._letters = letters
        self._all = None
        self._starts = [0]
