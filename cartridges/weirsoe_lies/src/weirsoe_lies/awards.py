"""Rankings and post-game awards."""

from __future__ import annotations

from typing import Any

from weirsoe_sdk import Context

from .events import Award, RankEntry
from .state import LiesState

__all__ = ["EMOJI", "EMOJI_AWARDS", "awards_for", "ranking"]

# The fixed reaction set, and the award each emoji earns its favourite target.
EMOJI_AWARDS: dict[str, tuple[str, str]] = {
    "😂": ("comedian", "Comedian"),
    "🤯": ("mind_blower", "Mind Blower"),
    "🤔": ("head_scratcher", "Head Scratcher"),
    "👏": ("standing_ovation", "Standing Ovation"),
    "🔥": ("on_fire", "On Fire"),
    "🙄": ("eye_roller", "Eye Roller"),
}
EMOJI = tuple(EMOJI_AWARDS)


def ranking(state: LiesState, ctx: Context[Any]) -> list[RankEntry]:
    """Players by score; equal scores share a rank (1, 1, 3). Ties keep join order."""
    order = sorted(ctx.player_ids, key=lambda pid: -state.scores.get(pid, 0))
    out: list[RankEntry] = []
    for position, pid in enumerate(order, 1):
        score = state.scores.get(pid, 0)
        rank = out[-1].rank if out and out[-1].score == score else position
        delta = state.deltas.get(pid, 0)
        out.append(
            RankEntry(player_id=pid, name=ctx.name_of(pid), score=score, rank=rank, delta=delta)
        )
    return out


def _best(values: dict[str, int]) -> tuple[list[str], int]:
    top = max(values.values(), default=0)
    if top <= 0:
        return [], 0
    return [pid for pid, v in values.items() if v == top], top


def awards_for(state: LiesState) -> list[Award]:
    """Best liar, truth seeker, crowd favourite (players' reactions), audience favourite (the
    audience's reactions) and one award per emoji. Ties share an award;
    an award nobody earned (top value 0) is not given."""
    stats = state.stats
    candidates: list[tuple[str, str, dict[str, int], str | None]] = [
        ("best_liar", "Best Liar", {p: s.fooled for p, s in stats.items()}, None),
        ("truth_seeker", "Truth Seeker", {p: s.truths for p, s in stats.items()}, None),
        (
            "crowd_favourite",
            "Crowd Favourite",
            {p: sum(s.reactions.values()) for p, s in stats.items()},
            None,
        ),
        (
            "audience_favourite",
            "Audience Favourite",
            {p: s.audience for p, s in stats.items()},
            None,
        ),
    ]
    for emoji, (key, title) in EMOJI_AWARDS.items():
        candidates.append(
            (key, title, {p: s.reactions.get(emoji, 0) for p, s in stats.items()}, emoji)
        )
    awards = []
    for key, title, values, icon in candidates:
        winners, value = _best(values)
        if winners:
            awards.append(Award(key=key, title=title, winners=winners, value=value, emoji=icon))
    return awards
