"""Inputs: everything that can change a game, as typed, serialisable values."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "AudienceTally",
    "DeadlineReached",
    "HostControl",
    "Input",
    "PlayerAction",
    "PlayerJoined",
    "PlayerLeft",
    "PlayerReconnected",
]


class Input(msgspec.Struct, tag_field="kind", kw_only=True, frozen=True):
    """Base of every input. All state changes, of any origin, are one of these."""


class PlayerAction(Input, tag="action", frozen=True):
    """A player's cartridge action. ``id`` is the client's message id, used to drop duplicates."""

    player_id: str
    action: Any
    id: str | None = None


class DeadlineReached(Input, tag="deadline", frozen=True):
    """A deadline fired. ``serial`` identifies the deadline it was scheduled for."""

    key: str
    serial: int


class PlayerJoined(Input, tag="joined", frozen=True):
    player_id: str
    name: str


class PlayerLeft(Input, tag="left", frozen=True):
    player_id: str


class PlayerReconnected(Input, tag="reconnected", frozen=True):
    player_id: str


HostAction = Literal["play", "pause", "resume", "exit", "again"]


class HostControl(Input, tag="control", frozen=True):
    """The host's controls. There is deliberately no "skip". ``again`` (after the game is over)
    takes the room back to the lobby for another game with the same seats; ``settings``, with
    ``again`` only, changes single settings of that game."""

    action: HostAction
    settings: dict[str, Any] | None = None


class AudienceTally(Input, tag="tally", frozen=True):
    """The final counts of an open tally, delivered once, when its phase ends.

    ``counts`` maps every choice to its votes (0 included). A replay feeds this input just
    before the input that ended the tally's phase.
    """

    tally_id: str
    name: str
    counts: dict[str, int]
