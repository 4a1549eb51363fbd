"""The cartridge pages of the documentation: code blocks parse, relative links resolve."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = [
    DOCS / "cartridges" / "reference.md",
    DOCS / "weirsoe_lies.md",
    DOCS / "weirsoe_quips.md",
]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_are_valid(page: Path) -> None:
    """Python blocks compile; JSON and TOML blocks parse."""
    blocks = re.findall(r"```(python|json|toml)\n(.*?)```", page.read_text("utf-8"), re.DOTALL)
    assert blocks
    for number, (language, block) in enumerate(blocks, 1):
        where = f"{page.name}, block {number}"
        if language == "python":
            compile(block, where, "exec")
        elif language == "json":
            json.loads(block)
        else:
            tomllib.loads(block)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((?!https?://|#)([^)#]+)", text):
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
