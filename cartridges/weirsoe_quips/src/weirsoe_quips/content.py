"""Prompt packs: data files, validated with errors that name the entry and the field.

The same format as Weirsøe Lies' packs (``slug``, ``title``, ``version``, ``language``,
``prompts``, each with ``id``, ``prompt``, ``category`` and ``family_safe``), except that a
comedy prompt has no truth: it has ``house_answers`` for "answer for me".
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated

import msgspec

from weirsoe_sdk import ContentError, clean_text, normalize_answer

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


_AT = re.compile(r" - at `\$(.*)`$")
_ENTRY = re.compile(r"^\.prompts\[(\d+)\]\.?(.*)$")
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _describe(source: str, raw: bytes, exc: msgspec.ValidationError) -> str:
    message = str(exc)
    where = _AT.search(message)
    path = where.group(1) if where else ""
    reason = _AT.sub("", message)
    named = _NAMED.search(reason)
    entry = _ENTRY.match(path)
    if not entry:
        field = _join(path.lstrip("."), named[1] if named else "") or "(top level)"
        return f"{source}: field {field}: {reason}"
    index = int(entry.group(1))
    ident = ""
    with contextlib.suppress(Exception):  # the raw entry may be any shape; the id is a hint
        ident = msgspec.json.decode(raw)["prompts"][index].get("id", "")
    field = _join(entry.group(2), named[1] if named else "") or "(entry)"
    return f"{source}: entry {index} (id {ident or '?'}): field {field}: {reason}"


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


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
    try:
        pack = msgspec.json.decode(raw, type=Pack)
    except msgspec.ValidationError as exc:
        raise ContentError(_describe(source, raw, exc), code="invalid_pack") from None
    except msgspec.DecodeError as exc:
        raise ContentError(f"{source}: not valid JSON: {exc}", code="invalid_pack") from None
    errors = _check(source, pack)
    if errors:
        raise ContentError("\n".join(errors), code="invalid_pack")
    return pack


def builtin_packs() -> list[Pack]:
    folder = resources.files("weirsoe_quips").joinpath("content", "packs")
    return [
        load_pack(item.read_bytes(), f"weirsoe_quips/{item.name}")
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".json")
    ]


def load_packs(extra_dirs: Iterable[Path] = ()) -> dict[str, Pack]:
    """The built-in packs plus every ``*.json`` in ``extra_dirs``; later slugs win."""
    packs = {pack.slug: pack for pack in builtin_packs()}
    for folder in extra_dirs:
        if not folder.is_dir():
            raise ContentError(f"content folder {folder} does not exist", code="invalid_pack")
        for path in sorted(folder.glob("*.json")):
            pack = load_pack(path.read_bytes(), str(path))
            packs[pack.slug] = pack
    return packs
