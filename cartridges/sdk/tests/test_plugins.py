"""Cartridge discovery through pluggy entry points, and how broken plugins are reported."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pluggy
import pytest

from weirsoe_sdk import (
    ENTRY_POINT_GROUP,
    Cartridge,
    CartridgeError,
    Discovery,
    discover_cartridges,
    discover_preset_models,
    get_plugin_manager,
    hookimpl,
)

# The test-only rps cartridge (weirsoe.test_cartridges) loads only where this is set.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")


def test_installed_cartridges_are_discovered_with_their_distributions(
    weirsoe_cartridges: Discovery,
) -> None:
    # The SDK's own tests use only the test cartridge (tests/rps in the sdist), never a game
    # built on the SDK; each game checks its own discovery in its tests.
    assert weirsoe_cartridges.errors == []
    rps = weirsoe_cartridges.cartridges["rps"]
    assert rps.distribution == "weirsoe-test-rps"
    assert rps.describe() == {
        "slug": "rps",
        "title": "Rock Paper Scissors",
        "version": rps.info.version,
        "min_players": 2,
        "max_players": 4,
        "description": rps.info.description,
        "joinable_midgame": rps.info.joinable_midgame,
        "distribution": "weirsoe-test-rps",
    }


def test_cartridges_register_under_the_entry_point_group() -> None:
    pm = get_plugin_manager()
    names = {name for name, _ in pm.list_name_plugin()}
    assert "rps" in names
    assert ENTRY_POINT_GROUP == "weirsoe.cartridges"


def test_an_unknown_slug_is_a_cartridge_error(weirsoe_cartridges: Discovery) -> None:
    with pytest.raises(CartridgeError) as info:
        weirsoe_cartridges.get("chess")
    assert info.value.code == "unknown_cartridge"
    assert "rps" in info.value.message


class Broken:
    @hookimpl
    def weirsoe_register_cartridges(self, config: dict[str, Any]) -> list[Cartridge]:
        raise RuntimeError("content pack missing")


class NotACartridge:
    @hookimpl
    def weirsoe_register_cartridges(self, config: dict[str, Any]) -> list[object]:
        return ["I am a string"]


class Copycat:
    """Registers the rps cartridge a second time."""

    def __init__(self, cartridge: Cartridge) -> None:
        self.cartridge = cartridge

    @hookimpl
    def weirsoe_register_cartridges(self, config: dict[str, Any]) -> list[Cartridge]:
        return [self.cartridge]


def test_a_broken_plugin_is_reported_not_raised(weirsoe_cartridges: Discovery) -> None:
    rps = weirsoe_cartridges.get("rps")
    pm = get_plugin_manager(entry_points=False, plugins=[Broken(), Copycat(rps)])
    found = discover_cartridges(pm)
    assert list(found.cartridges) == ["rps"]
    assert len(found.errors) == 1
    assert "RuntimeError: content pack missing" in found.errors[0]


def test_a_plugin_returning_junk_or_a_duplicate_slug_is_reported(
    weirsoe_cartridges: Discovery,
) -> None:
    rps = weirsoe_cartridges.get("rps")
    pm = get_plugin_manager(entry_points=False, plugins=[NotACartridge(), Copycat(rps)])
    pm.register(Copycat(rps), name="copycat-2")
    found = discover_cartridges(pm)
    assert list(found.cartridges) == ["rps"]
    assert len(found.errors) == 2
    assert any("returned str, not Cartridge" in e for e in found.errors)
    assert any("duplicate cartridge slug 'rps'" in e for e in found.errors)


def test_the_config_reaches_the_plugins() -> None:
    seen: list[dict[str, Any]] = []

    class Spy:
        @hookimpl
        def weirsoe_register_cartridges(self, config: dict[str, Any]) -> list[Cartridge]:
            seen.append(config)
            return []

    discover_cartridges(get_plugin_manager(entry_points=False, plugins=[Spy()]))
    discover_cartridges(
        get_plugin_manager(entry_points=False, plugins=[Spy()]), config={"content_dir": "/x"}
    )
    assert seen == [{"content_dir": None}, {"content_dir": "/x"}]


class Misspelt:
    @hookimpl
    def weirsoe_register_cartrdges(self, config: dict[str, Any]) -> list[Cartridge]:
        return []


class WrongArgument:
    @hookimpl
    def weirsoe_register_cartridges(self, settings: dict[str, Any]) -> list[Cartridge]:
        return []


def test_check_pending_rejects_a_mistyped_hook_name() -> None:
    with pytest.raises(pluggy.PluginValidationError, match="weirsoe_register_cartrdges"):
        get_plugin_manager(entry_points=False, plugins=[Misspelt()])


def test_a_hook_with_an_unknown_argument_is_rejected() -> None:
    with pytest.raises(pluggy.PluginValidationError, match="settings"):
        get_plugin_manager(entry_points=False, plugins=[WrongArgument()])


def test_each_call_builds_a_new_plugin_manager() -> None:
    assert get_plugin_manager(entry_points=False) is not get_plugin_manager(entry_points=False)


def _install_broken_cartridge(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution whose entry point cannot be imported (it needs a missing module)."""
    info = root / "weirsoe_broken-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: weirsoe-broken\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[weirsoe.cartridges]\nbroken = weirsoe_broken_game\n")
    (root / "weirsoe_broken_game.py").write_text("import weirsoe_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(root))


def test_a_cartridge_that_fails_to_import_is_skipped_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_broken_cartridge(tmp_path, monkeypatch)
    found = discover_cartridges(get_plugin_manager())
    assert "rps" in found.cartridges  # the others still load
    (error,) = [e for e in found.errors if e.startswith("broken ")]
    assert error == (
        "broken (weirsoe-broken): cannot be imported: ModuleNotFoundError: "
        "No module named 'weirsoe_no_such_dependency'"
    )
    models, _ = discover_preset_models(get_plugin_manager())
    assert "rps" in models


# -- hook arguments are bound by name, as pluggy binds them ----------------------------------
_spec = pluggy.HookspecMarker("bindtest")
_impl = pluggy.HookimplMarker("bindtest")


class _Specs:
    @_spec
    def two(self, first: str, second: str) -> None:  # pragma: no cover - a spec
        ...


class _TakesBoth:
    @_impl
    def two(self, second: str, first: str) -> tuple[str, str]:
        return first, second


class _TakesSecond:
    @_impl
    def two(self, second: str) -> str:
        return second


def test_each_hook_argument_is_bound_by_its_own_name() -> None:
    from weirsoe_sdk._plugins import call_hookimpl

    pm = pluggy.PluginManager("bindtest")
    pm.add_hookspecs(_Specs)
    pm.register(_TakesBoth())
    pm.register(_TakesSecond())
    got = [call_hookimpl(i, {"first": "A", "second": "B"}) for i in pm.hook.two.get_hookimpls()]
    # Each argument receives its own value, in whatever order the implementation declares them,
    # exactly as pluggy's own call does (not one value handed to every argument).
    assert sorted(map(str, got)) == sorted(map(str, pm.hook.two(first="A", second="B")))
    assert ("A", "B") in got
    assert "B" in got


def test_a_hook_argument_missing_from_the_call_is_a_cartridge_error() -> None:
    from weirsoe_sdk._plugins import call_hookimpl

    pm = pluggy.PluginManager("bindtest")
    pm.add_hookspecs(_Specs)
    pm.register(_TakesBoth())
    (impl,) = pm.hook.two.get_hookimpls()
    with pytest.raises(CartridgeError, match="'first'"):
        call_hookimpl(impl, {"second": "B"})
