"""Effects: what a driver asks the runtime to do after a transition."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from ._events import EVERYONE, Audience, Event

__all__ = ["ClearDeadline", "Effect", "Emit", "GameOver", "Outcome", "SetDeadline"]

S = TypeVar("S")


class Emit(msgspec.Struct, frozen=True):
    """Send ``event`` to ``to``."""

    event: Event
    to: Audience = EVERYONE


class SetDeadline(msgspec.Struct, frozen=True):
    """Set the session's single running deadline (replacing any other) at time ``at``."""

    key: str
    at: float


class ClearDeadline(msgspec.Struct, frozen=True):
    """Clear the running deadline."""


class GameOver(msgspec.Struct, frozen=True):
    """The game has ended with ``results`` (any msgspec-serialisable value)."""

    results: Any


Effect = Emit | SetDeadline | ClearDeadline | GameOver


class Outcome(msgspec.Struct, Generic[S]):
    """A driver's answer: the new state and the effects of the transition."""

    state: S
    effects: list[Effect] = msgspec.field(default_factory=list)
