"""Every hook, and every public name of the SDK, is documented in the cartridge reference."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest
from _sdk_paths import DOCS

import weirsoe_sdk
from weirsoe_sdk import hookspecs

REFERENCE = DOCS / "cartridges" / "reference.md"


def _hookspecs() -> dict[str, Callable[..., Any]]:
    return {
        name: fn
        for name, fn in vars(hookspecs).items()
        if name.startswith("weirsoe_") and callable(fn)
    }


def _sections(text: str) -> dict[str, str]:
    """Level-3 headings and the text under each, up to the next heading."""
    out: dict[str, str] = {}
    heading: str | None = None
    body: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("#") and not fenced:
            if heading is not None:
                out[heading] = "\n".join(body)
            heading = line.removeprefix("### ").strip() if line.startswith("### ") else None
            body = []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        out[heading] = "\n".join(body)
    return out


@pytest.fixture(scope="module")
def reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def test_there_are_hooks_to_document() -> None:
    specs = _hookspecs()
    assert "weirsoe_register_cartridges" in specs
    for fn in specs.values():
        assert hasattr(fn, f"{hookspecs.PROJECT}_spec"), fn  # really a hookspec


@pytest.mark.parametrize("name", sorted(_hookspecs()))
def test_hook_is_documented(reference: str, name: str) -> None:
    params = list(inspect.signature(_hookspecs()[name]).parameters)
    heading = f"{name}({', '.join(params)})"
    sections = _sections(reference)
    assert heading in sections, f"no heading '### {heading}' in {REFERENCE.name}"
    body = sections[heading]
    for param in params:
        assert f"`{param}`" in body, f"{name}: parameter {param!r} is not described"


@pytest.mark.parametrize("name", weirsoe_sdk.__all__)
def test_public_name_is_mentioned(reference: str, name: str) -> None:
    assert re.search(rf"\b{re.escape(name)}\b", reference), f"{name} is not in {REFERENCE.name}"


def test_the_testing_package_is_documented(reference: str) -> None:
    from weirsoe_sdk import testing

    for name in testing.__all__:
        assert re.search(rf"\b{name}\b", reference), name
    for fixture in ("weirsoe_cartridges", "weirsoe_harness"):
        assert fixture in reference
