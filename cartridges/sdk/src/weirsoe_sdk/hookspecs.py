"""The hook specifications of Weirsøe Party Protocol (pluggy project name ``weirsoe``).

Hooks stay few: registering cartridges, and platform extension points. Game logic lives on the
driver, never in hooks. Every hook is documented in ``docs/cartridges/reference.md``; a test
fails if one is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pluggy

from ._meta import Cartridge

if TYPE_CHECKING:
    from ._models import PresetModel

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "weirsoe"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def weirsoe_register_cartridges(config: dict[str, Any]) -> Iterable[Cartridge]:  # type: ignore[empty-body]
    """Return the cartridges this plugin provides.

    Called once, when a plugin manager discovers cartridges (server start, CLI commands,
    the harness). Load content here, not at import time and never inside the driver.

    :param config: operator settings for cartridges. ``config["content_dir"]`` is a folder
        (or ``None``) in which ``<slug>/`` holds extra content packs an operator added.
    :return: an iterable of :class:`weirsoe_sdk.Cartridge`. Slugs must be unique across all
        installed plugins; a duplicate slug is reported as an error and skipped.
    """


@hookspec
def weirsoe_startup(settings: Any, cartridges: dict[str, Cartridge]) -> None:
    """Called once when a server has started, after cartridges were discovered.

    :param settings: the platform's settings object (read-only).
    :param cartridges: the discovered cartridges by slug.
    """


@hookspec
def weirsoe_track_event(code: str, cartridge: str, event_type: str, version: int) -> None:
    """Called after every committed transition, once per event it published.

    For analytics and logging. It must be fast and must not raise; errors are logged and
    swallowed so that tracking can never break a game. It never receives event payloads, so
    secrets cannot leak through it.

    :param code: the room code.
    :param cartridge: the cartridge slug.
    :param event_type: the event's wire ``type`` (for example ``phase.lie_started``).
    :param version: the session version after the transition.
    """


@hookspec
def weirsoe_register_preset_models() -> Iterable[PresetModel]:  # type: ignore[empty-body]
    """Return how this plugin's cartridges store their settings in hosts' presets.

    Called when the platform starts and by ``weirsoe db upgrade``, independently of
    ``weirsoe_register_cartridges`` (no content is loaded). A cartridge without a preset model
    still has presets: the platform then keeps only the settings' JSON.

    :return: an iterable of :class:`weirsoe_sdk.PresetModel`, one per cartridge: its SQLAlchemy
        model (on :class:`weirsoe_sdk.ModelBase`, with :class:`weirsoe_sdk.PresetRowMixin`), the
        conversions between its settings Struct and a row, and its Alembic migrations folder.
    """
