"""Question packs: data files, validated with errors that name the entry and the field."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated

import msgspec

from weirsoe_sdk import ContentError, clean_text, same_answer

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


_AT = re.compile(r" - at `\$(.*)`$")
_ENTRY = re.compile(r"^\.prompts\[(\d+)\]\.?(.*)$")
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _describe(source: str, raw: bytes, exc: msgspec.ValidationError) -> str:
    message = str(exc)
    where = _AT.search(message)
    path = where.group(1) if where else ""
    reason = _AT.sub("", message)
    named = _NAMED.search(reason)  # a missing or unknown field is named in the message only
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
    folder = resources.files("weirsoe_lies").joinpath("content", "packs")
    return [
        load_pack(item.read_bytes(), f"weirsoe_lies/{item.name}")
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
