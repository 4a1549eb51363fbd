"""Content packs as data files: decode, validate and load them with errors that name the file,
the entry and the field, so an operator can fix a custom pack from the message alone.

A cartridge gives its own pack type (a msgspec Struct with a ``slug`` and a list of
``prompts``, each with an ``id``) and its own checks; the SDK does the rest.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Protocol, TypeVar

import msgspec

from ._errors import ContentError

__all__ = ["PackCheck", "describe_pack_error", "read_pack", "read_packs"]


class _Pack(Protocol):
    @property
    def slug(self) -> str: ...


P = TypeVar("P", bound=_Pack)

PackCheck = Callable[[str, P], list[str]]
"""A cartridge's own checks of a decoded pack: ``(source, pack) -> error lines`` (none: valid)."""

_AT = re.compile(r" - at `\$(.*)`$")
_ENTRY = re.compile(r"^\.prompts\[(\d+)\]\.?(.*)$")
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def describe_pack_error(source: str, raw: bytes, exc: msgspec.ValidationError) -> str:
    """msgspec's validation error as ``source: entry N (id X): field F: reason``."""
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


def read_pack(raw: bytes, source: str, pack_type: type[P], check: PackCheck[P]) -> P:
    """Decode and validate one pack.

    :raises ContentError: (code ``invalid_pack``) naming every bad entry and field."""
    try:
        pack = msgspec.json.decode(raw, type=pack_type)
    except msgspec.ValidationError as exc:
        raise ContentError(describe_pack_error(source, raw, exc), code="invalid_pack") from None
    except msgspec.DecodeError as exc:
        raise ContentError(f"{source}: not valid JSON: {exc}", code="invalid_pack") from None
    errors = check(source, pack)
    if errors:
        raise ContentError("\n".join(errors), code="invalid_pack")
    return pack


def read_packs(
    package: str, pack_type: type[P], check: PackCheck[P], extra_dirs: Iterable[Path] = ()
) -> dict[str, P]:
    """``package``'s built-in packs (``content/packs/*.json``) plus every ``*.json`` in
    ``extra_dirs`` (``--content-dir``), by slug; later slugs win.

    :raises ContentError: a bad pack, or a content folder that does not exist."""
    folder = resources.files(package).joinpath("content", "packs")
    packs: dict[str, P] = {}
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".json"):
            pack = read_pack(item.read_bytes(), f"{package}/{item.name}", pack_type, check)
            packs[pack.slug] = pack
    for extra in extra_dirs:
        if not extra.is_dir():
            raise ContentError(f"content folder {extra} does not exist", code="invalid_pack")
        for path in sorted(extra.glob("*.json")):
            pack = read_pack(path.read_bytes(), str(path), pack_type, check)
            packs[pack.slug] = pack
    return packs
