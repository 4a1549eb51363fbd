"""What the host screen, each player and the audience see. Never another player's secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from weirsoe_sdk import Context, Viewer

from .awards import EMOJI, awards_for, ranking
from .events import RankEntry
from .settings import LiesSettings
from .state import LiesState

if TYPE_CHECKING:
    from .driver import LiesDriver

__all__ = ["build_view"]


def build_view(
    driver: LiesDriver, state: LiesState, viewer: Viewer, ctx: Context[LiesSettings]
) -> dict[str, Any]:
    # Bots and snapshots ask for views often: read each attribute once.
    card, settings, phase = state.card, ctx.settings, state.phase
    view: dict[str, Any] = {
        "phase": phase,
        "round": card.round,
        "rounds": settings.rounds,
        "question": state.index + 1,
        "questions": len(state.cards),
        "multiplier": card.multiplier,
        "category": card.category,
        "prompt": card.prompt,
        "max_length": settings.lie_max_length,
        "emoji": list(EMOJI),
        "reaction_cap": settings.reaction_cap,
        "scores": dict(state.scores),
    }
    if phase == "lie":
        lies = state.lies
        view["submitted"] = [p.id for p in ctx.players if p.id in lies]
    if phase in ("guess", "reveal", "scoreboard"):
        view["answers"] = [{"id": a.id, "text": a.text} for a in state.answers]
    if phase == "guess":
        guesses = state.guesses
        view["guessed"] = [p.id for p in ctx.players if p.id in guesses]
    if phase in ("reveal", "scoreboard"):
        view["reveal"] = list(state.reveal_log)
    ranked = ranking(state, ctx) if phase in ("scoreboard", "over") else None
    if ranked is not None:
        view["ranking"] = msgspec.to_builtins(ranked)
    if phase == "scoreboard":
        view["deltas"] = dict(state.deltas)
    if phase == "over":
        view["awards"] = msgspec.to_builtins(awards_for(state))
        view["history"] = msgspec.to_builtins(state.history)
    if viewer.role == "player" and viewer.player_id is not None:
        view["me"] = _me(state, viewer.player_id, settings, ranked)
    return view


def _me(
    state: LiesState, pid: str, settings: LiesSettings, ranked: list[RankEntry] | None
) -> dict[str, Any]:
    phase = state.phase
    lie = state.lies.get(pid) if phase in ("lie", "guess", "reveal", "scoreboard") else None
    own = None
    for answer in state.answers:
        if pid in answer.authors:
            own = answer.id
            break
    me: dict[str, Any] = {
        "id": pid,
        "lie": lie.text if lie else None,
        "lie_for_me": bool(lie and lie.lie_for_me),
        "guess": state.guesses.get(pid),
        "reactions_left": max(0, settings.reaction_cap - state.reactions_used.get(pid, 0)),
        "score": state.scores.get(pid, 0),
        # Always present, as in ``phase.guess_started``: null until there is one.
        "yours": own,
        "rank": None,
    }
    if ranked is not None:  # the scoreboard and the end
        me["rank"] = next(r.rank for r in ranked if r.player_id == pid)
    return me
