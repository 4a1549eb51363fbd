"""Dealing a round (pairs from the SDK's matchmaking, fresh prompts from the pool), and the
answers written to it."""

from __future__ import annotations

from weirsoe_sdk import (
    Context,
    InvalidAction,
    clean_text,
    deal_pairs,
    is_profane,
    normalize_answer,
    pair_key,
)

from .content import Prompt
from .settings import QuipsSettings
from .state import Matchup, QuipsState

__all__ = ["PROMPTS_EACH", "deal_round", "new_answer_id", "valid_answer"]

PROMPTS_EACH = 2  # prompts per player in rounds 1 and 2 (each prompt to exactly two players)


def deal_round(
    fresh: list[Prompt], state: QuipsState, ctx: Context[QuipsSettings]
) -> list[Matchup]:
    """Rounds 1-2: every player gets two prompts, each prompt two players, and round 2 avoids
    round 1's pairs while it can. The final: one prompt for everyone."""
    players = ctx.player_ids
    if state.final:
        pairs: list[tuple[str, ...]] = [tuple(players)]
    else:
        seen = {frozenset(p) for p in state.pairs_seen}
        pairs = list(deal_pairs(players, PROMPTS_EACH, ctx.rng, avoid=seen))
        state.pairs_seen += [sorted(pair_key(*p)) for p in pairs]
    prompts = ctx.rng.sample(fresh, len(pairs))
    state.used_prompts += [p.id for p in prompts]
    tag = "final" if state.final else f"r{state.round}m"
    return [
        Matchup(
            id=tag if state.final else f"{tag}{i + 1}",
            prompt_id=p.id,
            prompt=p.prompt,
            category=p.category,
            players=list(pair),
            house=list(p.house_answers),
        )
        for i, (p, pair) in enumerate(zip(prompts, pairs, strict=True))
    ]


def valid_answer(text: str, ctx: Context[QuipsSettings]) -> str:
    """The cleaned answer, or :class:`InvalidAction` with a stable code."""
    cleaned = clean_text(text)
    limit = ctx.settings.answer_max_length
    if not cleaned or not normalize_answer(cleaned):
        raise InvalidAction("write an answer first", code="answer_empty")
    if len(cleaned) > limit:
        raise InvalidAction(f"keep it under {limit} characters", code="answer_too_long")
    if ctx.settings.family_mode and is_profane(cleaned):
        raise InvalidAction("keep it family-friendly", code="answer_profane")
    return cleaned


def new_answer_id(state: QuipsState, ctx: Context[QuipsSettings]) -> str:
    """A random answer id, unique in the round: it says nothing about its author."""
    used = {e.id for entries in state.entries.values() for e in entries.values()}
    while True:
        candidate = f"a{ctx.rng.getrandbits(32):08x}"
        if candidate not in used:
            return candidate
