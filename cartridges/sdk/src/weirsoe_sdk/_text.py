"""Text hygiene shared by the platform and cartridges: names, free text, answer matching."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from better_profanity import profanity as _profanity  # type: ignore[import-untyped]

__all__ = [
    "clean_name",
    "clean_text",
    "edit_distance",
    "is_profane",
    "name_skeleton",
    "normalize_answer",
    "same_answer",
]

# Format (Cf) covers zero-width and bidi controls; Cc covers control characters; Co/Cs/Cn are
# private-use, surrogates and unassigned code points, none of which belongs in a name.
_DROP = {"Cc", "Cf", "Co", "Cs", "Cn"}
_ARTICLES = {"a", "an", "the"}

_profanity.load_censor_words()


# In ASCII, NFKC changes nothing and the only characters in ``_DROP`` are the controls (Cc).
_ASCII_CONTROLS = {c: None for c in [*range(0x20), 0x7F] if chr(c) not in "\t\n"}


def clean_text(text: str) -> str:
    """NFKC-normalise, drop control/zero-width/bidi characters, collapse white space."""
    if text.isascii():
        kept = text.translate(_ASCII_CONTROLS)
    else:
        text = unicodedata.normalize("NFKC", text)
        kept = "".join(ch for ch in text if unicodedata.category(ch) not in _DROP or ch in "\t\n ")
    # Splitting on white space is the regex ``\s+`` (both use Py_UNICODE_ISSPACE), faster.
    return " ".join(kept.split())


_MAX_MARKS = 2  # combining marks kept per base character ("Zalgo" text is cut down)


def clean_name(text: str) -> str:
    """:func:`clean_text`, with at most two combining marks on any character."""
    out: list[str] = []
    marks = 0
    for ch in clean_text(text):
        if unicodedata.combining(ch):
            marks += 1
            if marks > _MAX_MARKS:
                continue
        else:
            marks = 0
        out.append(ch)
    return "".join(out)


# Look-alikes within ASCII itself, applied after case folding (so "I"/"l" stay apart: folding
# "ALICE" must match "Alice"); everything else comes from Unicode's confusables data.
_ASCII_LOOKALIKES = {"0": "o", "1": "l", "|": "l"}
_ASCII_ALNUM = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@lru_cache(maxsize=1)
def _lookalikes() -> dict[str, str]:
    """Each non-ASCII character that looks like an ASCII letter or digit, mapped to it.

    From Unicode's confusables data (via ``confusable-homoglyphs``). Only direct look-alikes
    count: chaining them would fold unrelated letters together and refuse innocent names.
    """
    import json
    from importlib import resources

    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for ch, homoglyphs in data.items():
        if len(ch) != 1 or ch.isascii():
            continue
        targets = sorted(g["c"] for g in homoglyphs if g.get("c", "") in _ASCII_ALNUM)
        if targets:
            table[ch] = targets[0]
    return table


@lru_cache(maxsize=4096)
def name_skeleton(text: str) -> str:
    """What a name looks like: two names with the same skeleton look the same on screen.

    Case, accents, spacing and homoglyphs from other scripts (Cyrillic "а" for Latin "a",
    "0" for "o", "1" for "l"…) all fold together.
    """
    table = _lookalikes()
    text = unicodedata.normalize("NFKD", clean_text(text))
    folded = "".join(table.get(ch, ch) for ch in text if not unicodedata.combining(ch))
    folded = "".join(_ASCII_LOOKALIKES.get(ch, ch) for ch in folded.casefold())
    return "".join(folded.split())


@lru_cache(maxsize=8192)
def normalize_answer(text: str) -> str:
    """The form two answers are compared in: no accents, case, punctuation or articles."""
    text = clean_text(text)
    if not text.isascii():  # ASCII has no decompositions and no combining marks
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = "".join(ch if ch.isalnum() else " " for ch in text.casefold())
    words = [w for w in text.split() if w not in _ARTICLES]
    return " ".join(words)


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance, giving up (returning ``limit + 1``) beyond ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _near_word(a: str, b: str) -> bool:
    """One typo forgiven in a word of 5+ letters, two from 10; never in the first letter or in
    numbers, so "million" never matches "billion" and "ten" never matches "two"."""
    if a == b:
        return True
    if a[0] != b[0] or a.isdigit() or b.isdigit() or min(len(a), len(b)) < 5:
        return False
    tolerance = 2 if min(len(a), len(b)) >= 10 else 1
    return edit_distance(a, b, tolerance) <= tolerance


def same_answer(a: str, b: str) -> bool:
    """True when two answers are the same after normalisation, or near-identical spellings.

    Normalisation drops accents, case, punctuation, articles and spacing; then each word may
    carry one typo (see ``_near_word``).
    """
    na, nb = normalize_answer(a), normalize_answer(b)
    if na == nb or na.replace(" ", "") == nb.replace(" ", ""):
        return True
    wa, wb = na.split(), nb.split()
    if not wa or len(wa) != len(wb):
        return False
    return all(_near_word(x, y) for x, y in zip(wa, wb, strict=True))


def is_profane(text: str) -> bool:
    """True if ``text`` contains a word from better-profanity's maintained word list."""
    return bool(_profanity.contains_profanity(clean_text(text)))
