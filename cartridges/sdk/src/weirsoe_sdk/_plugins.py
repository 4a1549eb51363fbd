"""Cartridge discovery through pluggy, built by a factory and never at import time."""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from . import hookspecs
from ._errors import CartridgeError
from ._meta import Cartridge

__all__ = ["ENTRY_POINT_GROUP", "Discovery", "discover_cartridges", "get_plugin_manager"]

ENTRY_POINT_GROUP = "weirsoe.cartridges"
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
    plugin of the ``weirsoe.cartridges`` entry-point group. Mistyped hooks are errors.

    A plugin that fails to import is skipped and recorded in ``load_errors`` (and so in
    :attr:`Discovery.errors`), naming its distribution and the error: one broken cartridge
    must not take the platform down.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    if entry_points:
        _load_entry_points(pm)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _load_entry_points(pm: PluginManager) -> None:
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
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
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
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
            kwargs = dict.fromkeys(impl.argnames, config)
            result: Any = impl.function(**kwargs)
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


def _dist_of_module(module: str) -> str | None:
    top = module.split(".")[0]
    names = importlib.metadata.packages_distributions().get(top)
    return names[0] if names else None
