"""Text hygiene: cleaning names and free text, and deciding when two answers are the same."""

from __future__ import annotations

import pytest

from weirsoe_sdk import clean_text, edit_distance, is_profane, normalize_answer, same_answer


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Bo\u200bb", "Bob"),  # zero-width space
        ("\u202eevil\u202c", "evil"),  # right-to-left override and pop
        ("\u2066Ann\u2069", "Ann"),  # bidi isolates
        ("Al\x00ice\x07", "Alice"),  # control characters
        ("\ufeffZoe", "Zoe"),  # byte-order mark
        ("  two \t\n  words  ", "two words"),
        ("ｆｕｌｌ", "full"),  # NFKC folds fullwidth letters
        ("Ĳsselmeer", "IJsselmeer"),  # NFKC folds the ligature
        ("Zürich", "Zürich"),  # letters with accents stay
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_keeps_emoji_and_letters_of_any_script() -> None:
    assert clean_text("Łukasz 🎉 東京") == "Łukasz 🎉 東京"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("unicorn", "UNICORN"),
        ("ｕｎｉｃｏｒｎ", "unicorn"),  # fullwidth, folded by NFKC
        ("Zürich", "zurich"),  # accents
        ("Ångström", "angstrom"),
        ("the unicorn", "unicorn"),  # articles
        ("a flamboyance", "an flamboyance"),
        ("hold-hands!", "hold hands"),  # punctuation
        ("ice cream", "icecream"),  # spacing
        ("flamboyance", "flamboyanse"),  # one typo in a long word
        ("elephant", "elephnat"),  # a transposition is one typo
        ("Mississippi River", "Missisippi river"),
        ("hold hands", "hold\u200bhands"),  # a zero-width space is dropped, not a space
    ],
)
def test_same_answer(a: str, b: str) -> None:
    assert same_answer(a, b)
    assert same_answer(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ten minutes", "two minutes"),
        ("one billion", "one million"),
        ("1999", "1998"),  # numbers are never forgiven a typo
        ("cat", "car"),  # too short to forgive a typo
        ("unicorn", "unicorns and dragons"),
        ("zebra", "zebra crossing"),
        ("flamboyance", "fxambxyaxce"),  # three typos
        ("paris", "parma"),  # two typos in a short word
        ("mountain", "fountain"),  # never a typo in the first letter
        ("", "unicorn"),
    ],
)
def test_different_answers(a: str, b: str) -> None:
    assert not same_answer(a, b)
    assert not same_answer(b, a)


def test_two_typos_are_forgiven_only_in_words_of_ten_letters_or_more() -> None:
    assert same_answer("flamboyance", "flambuyanse")  # 11 letters, two typos
    assert not same_answer("elephant", "elefhamt")  # 8 letters, two typos


def test_normalize_answer() -> None:
    assert normalize_answer("  The Zürich-Airport!! ") == "zurich airport"
    assert normalize_answer("!!!") == ""
    assert normalize_answer("An apple a day") == "apple day"


def test_edit_distance_gives_up_beyond_the_limit() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("abcdef", "badcfe") == 3  # three transpositions
    assert edit_distance("kitten", "sitting", limit=1) == 2
    assert edit_distance("a", "abcdefgh", limit=3) == 4


def test_is_profane() -> None:
    assert is_profane("what the fuck")
    assert is_profane("f\u200buck")  # hidden characters do not hide a word
    assert not is_profane("Scunthorpe")
    assert not is_profane("a classic assessment")
