"""Prompt packs: data files, validated with errors that name the entry and the field.

The same format as Weirsøe Lies' packs (``slug``, ``title``, ``version``, ``language``,
``prompts``, each with ``id``, ``prompt``, ``category`` and ``family_safe``), except that a
comedy prompt has no truth: it has ``house_answers`` for "answer for me".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import msgspec

from weirsoe_sdk import clean_text, normalize_answer, read_pack, read_packs

__all__ = ["Pack", "Prompt", "builtin_packs", "load_pack", "load_packs"]

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class Prompt(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: Short
    prompt: Text
    house_answers: list[Short]
    category: Short
    family_safe: bool


class Pack(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    title: Text
    version: int
    prompts: list[Prompt]
    language: str = "en"


def _check(source: str, pack: Pack) -> list[str]:
    errors: list[str] = []
    ids: set[str] = set()
    texts: set[str] = set()
    for index, p in enumerate(pack.prompts):
        where = f"{source}: entry {index} (id {p.id})"
        if p.id in ids:
            errors.append(f"{where}: field id: duplicate id")
        ids.add(p.id)
        key = normalize_answer(p.prompt)
        if not key:
            errors.append(f"{where}: field prompt: needs some letters or numbers")
        elif key in texts:
            errors.append(f"{where}: field prompt: the same prompt is already in the pack")
        texts.add(key)
        if len(p.house_answers) < 3:
            errors.append(
                f"{where}: field house_answers: needs at least 3, has {len(p.house_answers)}"
            )
        seen: set[str] = set()
        for answer in p.house_answers:
            norm = normalize_answer(answer)
            if not clean_text(answer) or not norm:
                errors.append(f"{where}: field house_answers: {answer!r} is empty")
            elif norm in seen:
                errors.append(f"{where}: field house_answers: {answer!r} is there twice")
            seen.add(norm)
    return errors


def load_pack(raw: bytes, source: str) -> Pack:
    """Decode and validate one pack. :raises ContentError: naming every bad entry and field."""
    return read_pack(raw, source, Pack, _check)


def builtin_packs() -> list[Pack]:
    return list(read_packs("weirsoe_quips", Pack, _check).values())


def load_packs(extra_dirs: Iterable[Path] = ()) -> dict[str, Pack]:
    """The built-in packs plus every ``*.json`` in ``extra_dirs``; later slugs win."""
    return read_packs("weirsoe_quips", Pack, _check, extra_dirs)
