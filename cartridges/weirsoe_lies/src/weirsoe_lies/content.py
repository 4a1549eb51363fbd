"""Question packs: data files, validated with errors that name the entry and the field."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import msgspec

from weirsoe_sdk import clean_text, read_pack, read_packs, same_answer

__all__ = ["BLANK", "Pack", "Prompt", "builtin_packs", "load_pack", "load_packs"]

BLANK = "_____"
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class Prompt(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: Short
    prompt: Text
    truth: Short
    house_lies: list[Short]
    category: Short
    family_safe: bool
    alternates: list[Short] = []


class Pack(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    title: Text
    version: int
    prompts: list[Prompt]
    language: str = "en"


def _check(source: str, pack: Pack) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for index, p in enumerate(pack.prompts):
        where = f"{source}: entry {index} (id {p.id})"
        if p.id in seen:
            errors.append(f"{where}: field id: duplicate id")
        seen.add(p.id)
        if p.prompt.count(BLANK) != 1 or "_" in p.prompt.replace(BLANK, "", 1):
            errors.append(f"{where}: field prompt: must contain exactly one blank {BLANK!r}")
        if not clean_text(p.truth):
            errors.append(f"{where}: field truth: is empty")
        if len(p.house_lies) < 3:
            errors.append(f"{where}: field house_lies: needs at least 3, has {len(p.house_lies)}")
        for lie in p.house_lies:
            if any(same_answer(lie, t) for t in (p.truth, *p.alternates)):
                errors.append(f"{where}: field house_lies: {lie!r} matches the truth")
    return errors


def load_pack(raw: bytes, source: str) -> Pack:
    """Decode and validate one pack. :raises ContentError: naming every bad entry and field."""
    return read_pack(raw, source, Pack, _check)


def builtin_packs() -> list[Pack]:
    return list(read_packs("weirsoe_lies", Pack, _check).values())


def load_packs(extra_dirs: Iterable[Path] = ()) -> dict[str, Pack]:
    """The built-in packs plus every ``*.json`` in ``extra_dirs``; later slugs win."""
    return read_packs("weirsoe_lies", Pack, _check, extra_dirs)
