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


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, plus the entry points that failed to load (``load_errors``)."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.load_errors: list[str] = []


def get_plugin_manager(
    *, entry_points: bool = True, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A new plugin manager with the ``weirsoe`` hookspecs and, by default, every installed
    plugin of the ``weirsoe.cartridges`` entry-point group (plus ``weirsoe.test_cartridges``
    when ``WEIRSOE_TEST_CARTRIDGES=1``). Mistyped hooks are errors.

    A plugin that fails to import is skipped and recorded in ``load_errors`` (and so in
    :attr:`Discovery.errors`), naming its distribution and the error: one broken cartridge
    must not take the platform down.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    if entry_points:
        for group in _groups():
            _load_entry_points(pm, group)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _groups() -> list[str]:
    if os.environ.get(TEST_CARTRIDGES_ENV, "").strip() not in ("", "0"):
        return [ENTRY_POINT_GROUP, TEST_ENTRY_POINT_GROUP]
    return [ENTRY_POINT_GROUP]


def _load_entry_points(pm: PluginManager, group: str) -> None:
    for entry in importlib.metadata.entry_points(group=group):
        if pm.get_plugin(entry.name) is not None or pm.is_blocked(entry.name):
            continue
        try:
            plugin = entry.load()
        except Exception as exc:  # ImportError, or anything its module raises on import
            log.debug("entry point %s failed to load", entry.name, exc_info=True)
            pm.load_errors.append(
                f"{entry.name} ({_dist_name(entry)}): cannot be imported: "
                f"{type(exc).__name__}: {exc}"
            )
            continue
        pm.register(plugin, name=entry.name)


def _dist_name(entry: importlib.metadata.EntryPoint) -> str:
    dist = entry.dist
    return str(dist.metadata["Name"]) if dist is not None else "unknown distribution"


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


def _distributions() -> dict[str, str]:
    """Entry-point name → the distribution that declares it."""
    return {
        entry.name: _dist_name(entry)
        for group in _groups()
        for entry in importlib.metadata.entry_points(group=group)
        if entry.dist is not None
    }


def discover_cartridges(
    pm: pluggy.PluginManager | None = None, *, config: dict[str, Any] | None = None
) -> Discovery:
    """Ask every plugin for its cartridges. A failing plugin is reported, not fatal."""
    pm = pm or get_plugin_manager()
    config = {"content_dir": None, **(config or {})}
    dists = _distributions()
    found = Discovery(errors=list(getattr(pm, "load_errors", ())))
    for impl in pm.hook.weirsoe_register_cartridges.get_hookimpls():
        name = impl.plugin_name
        try:
            result: Any = call_hookimpl(impl, {"config": config})
            provided = list(result or ())
        except Exception as exc:  # a broken cartridge must not take the platform down
            # One line for the operator (the platform logs Discovery.errors); the traceback
            # for whoever debugs the cartridge.
            log.debug("cartridge plugin %s failed to register", name, exc_info=True)
            where = f"{name} ({dists[name]})" if name in dists else name
            found.errors.append(f"{where}: failed to register: {type(exc).__name__}: {exc}")
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
