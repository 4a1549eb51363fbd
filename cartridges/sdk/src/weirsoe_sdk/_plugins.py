"""Cartridge discovery through pluggy, built by a factory and never at import time."""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from . import hookspecs
from ._errors import CartridgeError
from ._meta import Cartridge

__all__ = [
    "ENTRY_POINT_GROUP",
    "TEST_CARTRIDGES_ENV",
    "TEST_ENTRY_POINT_GROUP",
    "Discovery",
    "call_hookimpl",
    "discover_cartridges",
    "get_plugin_manager",
]

ENTRY_POINT_GROUP = "weirsoe.cartridges"
# Cartridges that exist only for tests register here instead, so that they never reach
# players: they load only where ``WEIRSOE_TEST_CARTRIDGES=1`` (the test suite's conftest sets it).
TEST_ENTRY_POINT_GROUP = "weirsoe.test_cartridges"
TEST_CARTRIDGES_ENV = "WEIRSOE_TEST_CARTRIDGES"
log = logging.getLogger("weirsoe.plugins")


def get_plugin_manager(
    *, entry_points: bool = True, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A new plugin manager with the ``weirsoe`` hookspecs and, by default, every installed
    plugin of the ``weirsoe.cartridges`` entry-point group (plus ``weirsoe.test_cartridges``
    when ``WEIRSOE_TEST_CARTRIDGES=1``). Mistyped hooks are errors."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        if os.environ.get(TEST_CARTRIDGES_ENV, "").strip() not in ("", "0"):
            pm.load_setuptools_entrypoints(TEST_ENTRY_POINT_GROUP)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


@dataclass
class Discovery:
    """Discovered cartridges by slug, and the errors of plugins that failed."""

    cartridges: dict[str, Cartridge] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def get(self, slug: str) -> Cartridge:
        try:
            return self.cartridges[slug]
        except KeyError:
            known = ", ".join(sorted(self.cartridges)) or "none"
            raise CartridgeError(
                f"unknown cartridge {slug!r} (installed: {known})", code="unknown_cartridge"
            ) from None


def _distributions(pm: pluggy.PluginManager) -> dict[str, str]:
    out: dict[str, str] = {}
    for plugin, dist in pm.list_plugin_distinfo():
        name = pm.get_name(plugin)
        if name is not None:
            out[name] = dist.metadata["name"]
    return out


def discover_cartridges(
    pm: pluggy.PluginManager | None = None, *, config: dict[str, Any] | None = None
) -> Discovery:
    """Ask every plugin for its cartridges. A failing plugin is reported, not fatal."""
    pm = pm or get_plugin_manager()
    config = {"content_dir": None, **(config or {})}
    dists = _distributions(pm)
    found = Discovery()
    for impl in pm.hook.weirsoe_register_cartridges.get_hookimpls():
        name = impl.plugin_name
        try:
            result: Any = call_hookimpl(impl, {"config": config})
            provided = list(result or ())
        except Exception as exc:  # a broken cartridge must not take the platform down
            log.exception("cartridge plugin %s failed to register", name)
            found.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        for cartridge in provided:
            if not isinstance(cartridge, Cartridge):
                found.errors.append(f"{name}: returned {type(cartridge).__name__}, not Cartridge")
                continue
            if cartridge.slug in found.cartridges:
                found.errors.append(f"{name}: duplicate cartridge slug {cartridge.slug!r}")
                continue
            dist = dists.get(name) or _dist_of_module(type(cartridge.driver).__module__)
            found.cartridges[cartridge.slug] = replace(cartridge, distribution=dist)
    return found


def call_hookimpl(impl: pluggy.HookImpl, caller_kwargs: Mapping[str, Any]) -> Any:
    """Call one hook implementation as pluggy does: each of its arguments gets the caller's
    value of the same name (an implementation may take any subset of the spec's arguments)."""
    try:
        args = [caller_kwargs[name] for name in impl.argnames]
    except KeyError as exc:
        raise CartridgeError(
            f"{impl.plugin_name}: hook argument {exc.args[0]!r} is not in the hookspec"
        ) from None
    return impl.function(*args)


def _dist_of_module(module: str) -> str | None:
    top = module.split(".")[0]
    names = importlib.metadata.packages_distributions().get(top)
    return names[0] if names else None
