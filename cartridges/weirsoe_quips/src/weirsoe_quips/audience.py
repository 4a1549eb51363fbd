"""The audience in Weirsøe Quips: it votes in every face-off and in the final, and its majority
counts as one extra vote (see docs/weirsoe_quips.md). The platform counts the crowd's votes; the
driver gets the final counts once, just before the vote ends."""

from __future__ import annotations

from weirsoe_sdk import Context, Tally

from .settings import QuipsSettings
from .state import QuipsState

__all__ = ["TALLIES", "crowd_pick"]

TALLIES = (
    Tally(
        name="vote",
        phases=frozenset({"vote", "final_vote"}),
        choices=lambda state: list(state.order),
        # One opening per face-off, so each face-off's crowd vote is counted on its own.
        instance=lambda state: f"r{state.round}:{state.index}:{state.phase}",
    ),
)


def crowd_pick(counts: dict[str, int], ctx: Context[QuipsSettings]) -> str | None:
    """The answer most of the audience picked; a tie is broken by the session's RNG."""
    top = max(counts.values(), default=0)
    if top <= 0:
        return None
    tied = sorted(aid for aid, n in counts.items() if n == top)
    return tied[0] if len(tied) == 1 else ctx.rng.choice(tied)


def with_crowd(state: QuipsState, ballots: list[str], ctx: Context[QuipsSettings]) -> list[str]:
    """The players' ballots plus one for the audience's pick, if it picked a votable answer."""
    pick = crowd_pick(state.crowd, ctx)
    return [*ballots, pick] if pick is not None and pick in state.order else ballots
