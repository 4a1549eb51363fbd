"""Weirsøe Lies settings, with defaults and bounds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

import msgspec

__all__ = ["LiesSettings", "pack_choices"]

Seconds = Annotated[float, msgspec.Meta(ge=0.2, le=600, description="seconds")]


class LiesSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How a game of Weirsøe Lies is played. Every field has a default."""

    rounds: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    questions_per_round: Annotated[
        int, msgspec.Meta(ge=1, le=5, description="questions in every round but the last")
    ] = 2
    lie_seconds: Seconds = 45.0
    guess_seconds: Seconds = 20.0
    reveal_step_seconds: Seconds = 4.0
    scoreboard_seconds: Seconds = 8.0
    extended_timers: Annotated[bool, msgspec.Meta(description="1.5x the lie and guess timers")] = (
        False
    )
    family_mode: Annotated[
        bool, msgspec.Meta(description="family-safe prompts; lies and names filtered")
    ] = False
    lie_max_length: Annotated[int, msgspec.Meta(ge=10, le=200)] = 60
    packs: Annotated[list[str], msgspec.Meta(min_length=1, max_length=20)] = msgspec.field(
        default_factory=lambda: ["core"]
    )
    house_lie_penalty: Annotated[
        int, msgspec.Meta(ge=0, le=5000, description="points lost (x multiplier) for a house lie")
    ] = 0
    reaction_cap: Annotated[int, msgspec.Meta(ge=0, le=50)] = 10

    @property
    def question_count(self) -> int:
        return (self.rounds - 1) * self.questions_per_round + 1

    def lie_time(self) -> float:
        return self.lie_seconds * (1.5 if self.extended_timers else 1.0)

    def guess_time(self) -> float:
        return self.guess_seconds * (1.5 if self.extended_timers else 1.0)


def pack_choices(packs: Iterable[str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Refines the settings' JSON Schema: ``packs`` may name only the installed packs."""
    names = sorted(packs)

    def refine(schema: dict[str, Any]) -> dict[str, Any]:
        field = schema["$defs"]["LiesSettings"]["properties"]["packs"]
        field["items"] = {"enum": names}
        return schema

    return refine
