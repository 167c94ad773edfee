"""Pinyin to characters from Debian's Rime dictionary (screens/pinyin.py, no Kivy): what a
citizen types for a shop name comes out as the characters, and no input ever raises."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config.errors import ConfigError
from screens.pinyin import (
    DEBIAN_PACKAGE,
    DICTIONARY,
    MAX_LETTERS,
    Candidate,
    Composer,
    DictionaryMissing,
    PinyinEngine,
    load_dictionary,
)

ENGINE = PinyinEngine()  # module-wide, not a fixture: hypothesis runs many examples on it
LETTERS = string.ascii_lowercase
FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def texts(candidates: list[Candidate]) -> list[str]:
    return [c.text for c in candidates]


def composer_with(letters: str, page_size: int = 5) -> Composer:
    composer = Composer(ENGINE, page_size)
    for letter in letters:
        assert composer.type(letter)
    return composer


def small_dictionary(tmp_path: Path, body: str) -> PinyinEngine:
    path = tmp_path / "test.dict.yaml"
    path.write_text("# Rime dictionary\n---\nname: test\nsort: by_weight\n...\n\n" + body,
                    encoding="utf-8")
    return PinyinEngine(path)


def test_the_dictionary_debian_ships_is_there() -> None:
    """bootstrap.sh installs it; without it every other test here is meaningless."""
    assert DICTIONARY.is_file(), f"apt-get install {DEBIAN_PACKAGE}"
    d = ENGINE.load()
    assert len(d.syllables) > 400 and d.longest_phrase == 4
    assert {"ka", "fei", "dian", "chen", "guang", "zhuang", "lv"} <= d.syllables


def test_the_dictionary_is_read_once() -> None:
    """(How long it takes is a benchmark's business, not a test's: the machine is shared.)"""
    load_dictionary.cache_clear()
    first = load_dictionary(DICTIONARY)
    assert load_dictionary(DICTIONARY) is first and PinyinEngine().load() is first


def test_read_in_the_background_once_however_many_ask_at_once(tmp_path: Path) -> None:
    path = tmp_path / "pinyin_simp.dict.yaml"
    path.write_text(DICTIONARY.read_text(encoding="utf-8")[:200_000], encoding="utf-8")
    engine = PinyinEngine(path)
    engine.check()
    reading = engine.load_in_background()
    first = engine.load()  # a keystroke before it is done waits for the same reading
    reading.join(10)
    assert not reading.is_alive()
    assert engine.load() is first and load_dictionary(path) is first
    assert engine.candidates("ka")


def test_missing_dictionary_stops_start_up_naming_the_debian_package(tmp_path: Path) -> None:
    engine = PinyinEngine(tmp_path / "pinyin_simp.dict.yaml")
    with pytest.raises(DictionaryMissing) as raised:
        engine.check()  # what start-up calls: the file is not read yet, only looked for
    assert isinstance(raised.value, ConfigError)
    assert f"apt-get install {DEBIAN_PACKAGE}" in str(raised.value)
    assert str(tmp_path) in str(raised.value)
    with pytest.raises(DictionaryMissing):  # not at the first keystroke either, if not loaded
        engine.candidates("ka")


def test_shop_name_in_full_pinyin_is_the_first_candidate() -> None:
    first_page = ENGINE.candidates("kafeidian", 5)
    assert first_page[0] == Candidate("咖啡店", 9)
    assert texts(ENGINE.candidates("chenguang", 5))[:1] == ["晨光"]


def test_whole_input_then_its_first_syllables_then_characters_of_the_first() -> None:
    found = ENGINE.candidates("kafeidian", 60)
    assert found[0] == Candidate("咖啡店", 9)
    assert found[1] == Candidate("咖啡", 5)
    assert {c.consumed for c in found[2:]} == {2}  # single characters of "ka"
    assert "卡" in texts(found[2:]) and "咖" in texts(found[2:])
    consumed = [c.consumed for c in found]
    assert consumed == sorted(consumed, reverse=True)


def test_choosing_a_phrase_leaves_the_rest_composing() -> None:
    composer = composer_with("chenguangkafei")
    assert composer.preedit == "chen guang ka fei"
    page = texts(composer.page)
    assert "晨光" in page
    assert composer.choose(page.index("晨光")) == "晨光"
    assert composer.letters == "kafei" and composer.preedit == "ka fei"
    assert texts(composer.page)[0] == "咖啡"
    assert composer.choose(0) == "咖啡"
    assert not composer.composing and composer.page == []


def test_unfinished_last_syllable_is_completed() -> None:
    assert ENGINE.candidates("kafeid", 3)[0] == Candidate("咖啡店", 6)
    assert ENGINE.segments("kafeid") == ["ka", "fei", "d"]
    assert texts(ENGINE.candidates("zhongg", 3))[0] == "中国"
    # While the last syllable is unfinished, its characters come as it is typed.
    assert "卡" in texts(ENGINE.candidates("k", 10))


def test_initials_abbreviate_a_phrase() -> None:
    found = ENGINE.candidates("kfd", 10)
    assert Candidate("咖啡店", 3) in found
    assert ENGINE.segments("kfd") == ["k", "f", "d"]
    assert "咖啡" in texts(ENGINE.candidates("kf", 20))


def test_a_whole_syllable_reading_outranks_an_abbreviation() -> None:
    """"ng" is 嗯 read whole, and also n+g initials (那个): the reading comes first."""
    found = texts(ENGINE.candidates("ng", 10))
    assert found[0] == "嗯" and "那个" in found
    assert found.index("嗯") < found.index("那个")


def test_fewest_syllables_cut_wins_and_other_cuts_do_not_leak_prefixes() -> None:
    assert ENGINE.segments("chenguang") == ["chen", "guang"]
    # che + n + guang also cuts, with a syllable more: 车 (che) must not be offered.
    assert "车" not in texts(ENGINE.candidates("chenguang", 120))
    assert "车" in texts(ENGINE.candidates("che", 120))


def test_two_cuts_as_short_are_both_offered() -> None:
    found = texts(ENGINE.candidates("fangan", 5))
    assert found[:2] == ["方案", "反感"]  # fang an and fan gan, by weight
    assert ENGINE.segments("fangan") == ["fang", "an"]


def test_whole_input_by_another_cut_ranks_by_weight() -> None:
    found = texts(ENGINE.candidates("xian", 10))
    assert found[0] == "先" and "西安" in found  # xi an, the whole input


@pytest.mark.parametrize("letters", ["xxxq", "", "ZZ", "123", "kafei!", "中文", "   ",
                                     "v", "vvvv", "a" * 100, "ng" * 30, "'", "\n", "İ"])
def test_any_input_gives_candidates_or_none_and_never_raises(letters: str) -> None:
    found = ENGINE.candidates(letters, 20)
    assert all(1 <= c.consumed <= min(len(letters), MAX_LETTERS) for c in found)
    assert len(set(texts(found))) == len(found)
    # Pieces are read in lower case; what cannot be read is shown as typed.
    assert "".join(ENGINE.segments(letters)) == letters.translate(FOLD)


def test_what_is_not_pinyin_has_no_candidates() -> None:
    for letters in ("", "123", "v", "vvv", "中文", "!"):
        assert ENGINE.candidates(letters, 20) == []


def test_upper_case_reads_as_lower_case() -> None:
    assert ENGINE.candidates("KaFei", 10) == ENGINE.candidates("kafei", 10)
    assert ENGINE.candidates("ZZ", 10) == ENGINE.candidates("zz", 10)


def test_letters_after_what_is_not_pinyin_are_never_used() -> None:
    found = ENGINE.candidates("kafei1dian", 50)
    assert found[0] == Candidate("咖啡", 5)
    assert max(c.consumed for c in found) == 5
    assert ENGINE.segments("kafei1dian") == ["ka", "fei", "1dian"]


def test_ties_are_broken_by_the_text(tmp_path: Path) -> None:
    engine = small_dictionary(tmp_path, "甲\tka\t5\n乙\tka\t5\n丙\tka\t9\n# a comment\n"
                                        "卡片\tka pian\t1\nbad line\n坏\tKA\t3\n")
    assert texts(engine.candidates("ka", 10)) == ["丙", "乙", "甲"]  # 9 first, then 乙 < 甲
    assert texts(engine.candidates("kap", 10)) == ["卡片", "丙", "乙", "甲"]
    assert engine.candidates("ka", 10) == engine.candidates("ka", 10)


def test_a_header_without_entries_gives_no_candidates(tmp_path: Path) -> None:
    assert small_dictionary(tmp_path, "").candidates("ka", 10) == []


def test_backspace_says_when_the_composition_was_already_empty() -> None:
    composer = composer_with("ka")
    assert composer.backspace() and composer.letters == "k"
    assert composer.backspace() and composer.letters == ""
    assert composer.backspace() is False


def test_only_letters_compose() -> None:
    composer = Composer(ENGINE)
    assert composer.type("K") and composer.letters == "k"
    for other in ("1", " ", "", "ab", "ü", "中", "'"):
        assert composer.type(other) is False
    assert composer.letters == "k"
    for _ in range(MAX_LETTERS * 2):
        composer.type("a")
    assert len(composer.letters) == MAX_LETTERS


def test_pages_go_forward_and_back() -> None:
    composer = composer_with("s", page_size=5)
    first = composer.page
    assert len(first) == 5 and not composer.has_previous_page and composer.has_next_page
    assert composer.next_page() and composer.page_number == 1
    second = composer.page
    assert len(second) == 5 and not set(texts(first)) & set(texts(second))
    assert composer.previous_page() and composer.page == first
    assert composer.previous_page() is False
    composer.type("h")  # a new letter shows the first page of the new candidates
    assert composer.page_number == 0


def test_a_page_holds_only_what_fits_in_its_width() -> None:
    composer = Composer(ENGINE, 9, measure=len, page_width=5)
    for letter in "kafeidian":
        composer.type(letter)
    assert texts(composer.page) == ["咖啡店", "咖啡"]  # 3 + 2 characters
    composer.page_width = 1
    assert texts(composer.page) == ["咖啡店"]  # at least one, even when it does not fit
    while composer.next_page():
        assert composer.page
    assert not composer.has_next_page


def test_last_page_ends_and_paging_past_it_is_refused() -> None:
    composer = composer_with("chenguangkafeidian", page_size=9)
    while composer.next_page():
        pass
    assert composer.page and composer.next_page() is False


def test_finish_takes_the_first_candidate_each_time() -> None:
    assert composer_with("chenguangkafei").finish() == "晨光咖啡"
    # What cannot be read stays as typed: nothing the citizen typed vanishes.
    composer = composer_with("kafeiv")
    assert composer.finish() == "咖啡v" and not composer.composing


def test_done_on_a_later_page_takes_the_first_candidate_shown() -> None:
    composer = composer_with("ka", page_size=3)
    composer.next_page()
    shown = composer.page[0].text
    assert composer.finish() == shown and shown != ENGINE.candidates("ka", 1)[0].text


def test_take_letters_and_clear_end_the_composition() -> None:
    composer = composer_with("kafei")
    assert composer.take_letters() == "kafei" and not composer.composing
    composer = composer_with("kafei")
    composer.clear()
    assert composer.letters == "" and composer.preedit == "" and composer.page == []


@given(st.text(alphabet=LETTERS, max_size=14))
def test_any_letters_give_candidates_that_use_some_of_them(letters: str) -> None:
    found = ENGINE.candidates(letters, 30)
    assert all(1 <= c.consumed <= len(letters) for c in found)
    assert [c.consumed for c in found] == sorted((c.consumed for c in found), reverse=True)
    assert "".join(ENGINE.segments(letters)) == letters
    composer = composer_with(letters, page_size=9)
    assert composer.preedit.replace(" ", "") == letters
    for i, candidate in enumerate(composer.page):
        again = composer_with(letters, page_size=9)
        assert again.choose(i) == candidate.text
        assert again.letters == letters[candidate.consumed:]
        assert len(again.letters) < len(letters)
