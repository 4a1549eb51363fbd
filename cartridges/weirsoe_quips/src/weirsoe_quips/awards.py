"""Rankings and post-game awards."""

from __future__ import annotations

from typing import Any

from weirsoe_sdk import Context

from .events import QuipsAward, QuipsRankEntry
from .state import QuipsState

__all__ = ["EMOJI", "awards_for", "ranking"]

EMOJI = ("😂", "🤯", "🤔", "👏", "🔥", "🙄")


def ranking(state: QuipsState, ctx: Context[Any]) -> list[QuipsRankEntry]:
    """Players by score; equal scores share a rank (1, 1, 3). Ties keep join order."""
    order = sorted(ctx.player_ids, key=lambda pid: -state.scores.get(pid, 0))
    out: list[QuipsRankEntry] = []
    for position, pid in enumerate(order, 1):
        score = state.scores.get(pid, 0)
        rank = out[-1].rank if out and out[-1].score == score else position
        delta = state.deltas.get(pid, 0)
        out.append(
            QuipsRankEntry(
                player_id=pid, name=ctx.name_of(pid), score=score, rank=rank, delta=delta
            )
        )
    return out


def awards_for(state: QuipsState) -> list[QuipsAward]:
    """Most Votes, Clean Sweeps and Crowd Favourite. Ties share an award; an award nobody
    earned is not given."""
    stats = state.stats
    candidates = [
        ("most_votes", "Most Votes", {p: s.votes for p, s in stats.items()}),
        ("clean_sweeps", "Clean Sweeps", {p: s.sweeps for p, s in stats.items()}),
        (
            "crowd_favourite",
            "Crowd Favourite",
            {p: sum(s.reactions.values()) for p, s in stats.items()},
        ),
    ]
    awards = []
    for key, title, values in candidates:
        top = max(values.values(), default=0)
        if top > 0:
            winners = [p for p, v in values.items() if v == top]
            awards.append(QuipsAward(key=key, title=title, winners=winners, value=top))
    return awards
