"""Weirsøe Quips settings, with defaults and bounds."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["QuipsSettings"]

Seconds = Annotated[float, msgspec.Meta(ge=0.2, le=600, description="seconds")]


class QuipsSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How a game of Weirsøe Quips is played. Every field has a default."""

    write_seconds: Seconds = 75.0
    vote_seconds: Seconds = 20.0
    result_seconds: Seconds = 6.0
    scoreboard_seconds: Seconds = 8.0
    extended_timers: Annotated[
        bool, msgspec.Meta(description="1.5x the writing and voting timers")
    ] = False
    family_mode: Annotated[
        bool, msgspec.Meta(description="family-safe prompts; answers and names filtered")
    ] = False
    answer_max_length: Annotated[int, msgspec.Meta(ge=10, le=200)] = 80
    packs: Annotated[list[str], msgspec.Meta(min_length=1, max_length=20)] = msgspec.field(
        default_factory=lambda: ["core"]
    )
    forfeit_points: Annotated[
        int, msgspec.Meta(ge=0, le=5000, description="points (x round) for a win by forfeit")
    ] = 500
    reaction_cap: Annotated[int, msgspec.Meta(ge=0, le=50)] = 10

    @property
    def prompts_needed(self) -> int:
        """Enough for the largest table: 8 prompts in each of two rounds, plus the final."""
        return 17
