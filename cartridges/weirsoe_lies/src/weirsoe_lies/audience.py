"""The audience in Weirsøe Lies: it picks the truth during the guess phase (one extra player)
and reacts with the same six emoji, capped like a player's reactions. See docs/weirsoe_lies.md.
"""

from __future__ import annotations

from weirsoe_sdk import Context, Tally

from .awards import EMOJI
from .events import AudienceShare
from .settings import LiesSettings
from .state import Answer, LiesState, Stats

__all__ = ["TALLIES", "crowd_pick", "react_choice", "record_reactions", "share_of"]

SEP = "|"


def react_choice(answer_id: str, emoji: str) -> str:
    """The tally choice for reacting to ``answer_id`` with ``emoji``."""
    return f"{answer_id}{SEP}{emoji}"


TALLIES = (
    Tally(
        name="truth",
        phases=frozenset({"guess"}),
        choices=lambda state: [a.id for a in state.answers],
    ),
    Tally(
        name="react",
        phases=frozenset({"guess", "reveal"}),
        choices=lambda state: [react_choice(a.id, e) for a in state.answers for e in EMOJI],
        votes=lambda settings: settings.reaction_cap,
        live=True,
    ),
)


def crowd_pick(counts: dict[str, int], ctx: Context[LiesSettings]) -> str | None:
    """The answer most of the audience picked; a tie is broken by the session's RNG."""
    top = max(counts.values(), default=0)
    if top <= 0:
        return None
    tied = sorted(aid for aid, n in counts.items() if n == top)
    return tied[0] if len(tied) == 1 else ctx.rng.choice(tied)


def record_reactions(state: LiesState, counts: dict[str, int]) -> None:
    """Audience reactions count toward each author's "Audience Favourite"."""
    for choice, n in counts.items():
        if n <= 0:  # most of the choices (an answer × an emoji): skip them before the lookup
            continue
        answer_id, _, _emoji = choice.partition(SEP)
        answer = state.answer(answer_id)
        if answer is None:
            continue
        for author in answer.authors:
            state.stats.setdefault(author, Stats()).audience += n


def share_of(state: LiesState, answer: Answer) -> AudienceShare | None:
    total = sum(state.crowd.values())
    if total <= 0:
        return None
    votes = state.crowd.get(answer.id, 0)
    return AudienceShare(
        votes=votes,
        total=total,
        share=round(votes / total, 4),
        pick=state.crowd_pick == answer.id,
    )
