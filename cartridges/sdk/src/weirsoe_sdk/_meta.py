"""Cartridge metadata and the cartridge object a plugin registers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ._driver import Bot, GameDriver
from ._errors import CartridgeError
from ._events import Event
from ._phases import PhasedDriver, action_union
from ._settings import load_settings, settings_schema
from ._tally import Tally

__all__ = ["Cartridge", "CartridgeInfo", "ViewTypes"]

_SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class CartridgeInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a lobby shows about a game before anyone plays it."""

    slug: str
    title: str
    version: str
    min_players: int
    max_players: int
    description: str = ""
    joinable_midgame: bool = False

    def __post_init__(self) -> None:
        if not self.slug or not set(self.slug) <= _SLUG_CHARS or not self.slug[0].isalpha():
            raise CartridgeError(f"bad cartridge slug {self.slug!r}: use [a-z][a-z0-9_]*")
        if not 1 <= self.min_players <= self.max_players:
            raise CartridgeError(f"{self.slug}: need 1 <= min_players <= max_players")


@dataclass(frozen=True, kw_only=True)
class ViewTypes:
    """The type of the ``view`` each role receives (in snapshots), as msgspec types.

    Usually one Struct per role; ``None`` for a role that sees nothing of the game. The AsyncAPI
    document publishes them, and the contract tests hold every view the driver returns to them.
    """

    host: Any
    player: Any
    audience: Any

    def for_role(self, role: str) -> Any:
        return {"host": self.host, "player": self.player, "audience": self.audience}[role]


@dataclass(frozen=True, kw_only=True)
class Cartridge:
    """A game as the platform sees it. Return one from ``weirsoe_register_cartridges``.

    :param info: metadata.
    :param driver: the rules.
    :param settings_type: a msgspec Struct with defaults and bounds.
    :param state_type: the driver's state type (a msgspec-serialisable type).
    :param action_type: the type (usually a tagged union) player actions decode into; None for
        a :class:`PhasedDriver`, whose phase table declares them.
    :param events: every event class the driver may emit, for the reference and schema.
    :param bot: a scripted player for the harness, the simulator and load tests.
    :param ui_dir: a folder with ``host.js`` and ``controller.js`` ES modules (optional).
    :param tallies: the crowd votes the platform counts for this game (see :class:`Tally`).
    :param check_settings: extra validation after the schema (raise :class:`InvalidSettings`),
        for rules that need loaded content, such as "enough questions in these packs".
    :param view_types: the type of each role's view (:class:`ViewTypes`), for the published
        contract. Without it a view is documented as any JSON value.
    :param errors: the error codes the cartridge raises, ``{code: meaning}``, for the error
        table (docs/errors.md). A test fails if the cartridge can raise a code not listed.
    :param refine_settings_schema: adds what the settings Struct cannot say to its JSON Schema,
        such as the names of the installed content packs.
    """

    info: CartridgeInfo
    driver: GameDriver[Any, Any]
    settings_type: type[msgspec.Struct]
    state_type: Any
    action_type: Any = None
    events: tuple[type[Event], ...] = ()
    bot: Bot | None = None
    ui_dir: Path | None = None
    check_settings: Callable[[Any], None] | None = None
    tallies: tuple[Tally, ...] = ()
    view_types: ViewTypes | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
    refine_settings_schema: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    distribution: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.action_type is None and isinstance(self.driver, PhasedDriver):
            # Frozen: the union of the phase table's actions is filled in once, here.
            object.__setattr__(self, "action_type", action_union(self.driver.phases))

    @property
    def slug(self) -> str:
        return self.info.slug

    def load_settings(self, data: Any) -> Any:
        """Validate settings data (a mapping, or None for the defaults)."""
        value = load_settings(self.settings_type, data)
        if self.check_settings is not None:
            self.check_settings(value)
        return value

    def settings_schema(self) -> dict[str, Any]:
        schema = settings_schema(self.settings_type)
        if self.refine_settings_schema is not None:
            schema = self.refine_settings_schema(schema)
        return schema

    def describe(self) -> dict[str, Any]:
        """Metadata as JSON-ready data, as ``weirsoe cartridges --json`` prints it."""
        out: dict[str, Any] = msgspec.to_builtins(self.info)
        out["distribution"] = self.distribution
        return out
