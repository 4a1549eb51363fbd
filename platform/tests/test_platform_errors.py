"""The error table: every code the platform, the SDK or a cartridge can send is listed once,
every close code has a meaning, and docs/errors.md is generated from it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import weirsoe_platform
import weirsoe_sdk
from weirsoe_platform.error_table import (
    CLOSE_MEANINGS,
    ERRORS,
    REGENERATE,
    main,
    render_errors_markdown,
)
from weirsoe_platform.transport import close_codes
from weirsoe_platform.transport._errors import HTTP_CODES
from weirsoe_sdk import Discovery, discover_cartridges

ROOT = Path(__file__).resolve().parents[2]
ERRORS_MD = ROOT / "docs" / "errors.md"
# ``code="x"`` in any call (errors, error replies) and ``default_code = "x"`` on error classes.
LITERAL = re.compile(r"""\b(?:default_)?code\s*=\s*["']([a-z_]+)["']""")
# Bases that are never raised themselves (checked below), so their default codes are never sent.
ABSTRACT = {"error", "platform_error", "account_error"}
ABSTRACT_RAISE = re.compile(r"raise (?:WeirsoeError|PlatformError|AccountError)\(")


@pytest.fixture(scope="module")
def discovery() -> Discovery:
    found = discover_cartridges()
    assert not found.errors
    return found


def codes_in(folder: Path) -> dict[str, str]:
    """Every code literal in the Python files under ``folder``: ``{code: where}``."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not ABSTRACT_RAISE.search(text), f"{path} raises an abstract error base"
        for match in LITERAL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(1), f"{path}:{line}")
    return found


def package_dir(module: str) -> Path:
    return Path(sys.modules[module.split(".")[0]].__file__ or "").parent


def test_each_code_is_listed_once() -> None:
    codes = [e.code for e in ERRORS]
    assert len(codes) == len(set(codes))
    for entry in ERRORS:
        assert entry.meaning.strip()
        assert entry.status or entry.where == ("ws",), f"{entry.code}: REST code without status"


def test_the_scanner_finds_codes(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text('raise Refused("no", code="made_up")\n    default_code = "other"\n')
    assert set(codes_in(tmp_path)) == {"made_up", "other"}


def test_every_platform_and_sdk_code_is_in_the_table() -> None:
    table = {e.code for e in ERRORS}
    found = {
        **codes_in(package_dir(weirsoe_platform.__name__)),
        **codes_in(package_dir(weirsoe_sdk.__name__)),
    }
    found.update(dict.fromkeys(HTTP_CODES.values(), "transport/_errors.py HTTP_CODES"))
    missing = {c: w for c, w in found.items() if c not in table and c not in ABSTRACT}
    assert not missing, f"codes sent but not in the error table: {missing}"
    for code in ("room_not_found", "room_locked", "forbidden", "bad_request", "read_only"):
        assert code in table


def test_every_cartridge_code_is_in_the_table(discovery: Discovery) -> None:
    table = {e.code for e in ERRORS}
    for slug, cartridge in sorted(discovery.cartridges.items()):
        found = codes_in(package_dir(type(cartridge.driver).__module__))
        missing = {c: w for c, w in found.items() if c not in table and c not in cartridge.errors}
        assert not missing, f"{slug}: codes sent but not in Cartridge.errors: {missing}"
        for code, meaning in cartridge.errors.items():
            assert meaning.strip(), f"{slug}: {code} has no meaning"


def test_every_close_code_has_a_meaning() -> None:
    for name, value in close_codes.items():
        assert value in CLOSE_MEANINGS, f"{name} has no meaning in the table"
    assert set(CLOSE_MEANINGS) == set(close_codes.values())


def test_errors_md_is_up_to_date(discovery: Discovery) -> None:
    text = render_errors_markdown(discovery)
    assert ERRORS_MD.exists(), f"docs/errors.md is missing; generate it with: {REGENERATE}"
    assert ERRORS_MD.read_text(encoding="utf-8") == text, (
        f"docs/errors.md is stale; regenerate it with: {REGENERATE}"
    )
    for entry in ERRORS:
        assert f"| `{entry.code}` |" in text
    for slug, cartridge in discovery.cartridges.items():
        for code in cartridge.errors:
            assert f"| `{code}` |" in text, f"{slug}: {code}"


def test_the_cli_checks_and_writes(tmp_path: Path) -> None:
    target = tmp_path / "errors.md"
    assert main(["--check", str(target)]) == 1
    assert main(["--write", str(target)]) == 0
    assert main(["--check", str(target)]) == 0
