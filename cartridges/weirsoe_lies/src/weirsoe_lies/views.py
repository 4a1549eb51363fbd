"""What the host screen, each player and the audience see. Never another player's secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from weirsoe_sdk import Context, Viewer

from .awards import EMOJI, awards_for, ranking
from .settings import LiesSettings
from .state import LiesState

if TYPE_CHECKING:
    from .driver import LiesDriver

__all__ = ["build_view"]


def build_view(
    driver: LiesDriver, state: LiesState, viewer: Viewer, ctx: Context[LiesSettings]
) -> dict[str, Any]:
    card = state.card
    view: dict[str, Any] = {
        "phase": state.phase,
        "round": card.round,
        "rounds": ctx.settings.rounds,
        "question": state.index + 1,
        "questions": len(state.cards),
        "multiplier": card.multiplier,
        "category": card.category,
        "prompt": card.prompt,
        "max_length": ctx.settings.lie_max_length,
        "emoji": list(EMOJI),
        "reaction_cap": ctx.settings.reaction_cap,
        "scores": dict(state.scores),
    }
    if state.phase == "lie":
        view["submitted"] = [pid for pid in ctx.player_ids if pid in state.lies]
    if state.phase in ("guess", "reveal", "scoreboard"):
        view["answers"] = [{"id": a.id, "text": a.text} for a in state.answers]
    if state.phase == "guess":
        view["guessed"] = [pid for pid in ctx.player_ids if pid in state.guesses]
    if state.phase in ("reveal", "scoreboard"):
        view["reveal"] = list(state.reveal_log)
    if state.phase in ("scoreboard", "over"):
        view["ranking"] = msgspec.to_builtins(ranking(state, ctx))
    if state.phase == "scoreboard":
        view["deltas"] = dict(state.deltas)
    if state.phase == "over":
        view["awards"] = msgspec.to_builtins(awards_for(state))
        view["history"] = msgspec.to_builtins(state.history)
    if viewer.role == "player" and viewer.player_id is not None:
        view["me"] = _me(state, viewer.player_id, ctx)
    return view


def _me(state: LiesState, pid: str, ctx: Context[LiesSettings]) -> dict[str, Any]:
    lie = state.lies.get(pid) if state.phase in ("lie", "guess", "reveal", "scoreboard") else None
    own = next((a.id for a in state.answers if pid in a.authors), None)
    me: dict[str, Any] = {
        "id": pid,
        "lie": lie.text if lie else None,
        "lie_for_me": bool(lie and lie.lie_for_me),
        "guess": state.guesses.get(pid),
        "reactions_left": max(0, ctx.settings.reaction_cap - state.reactions_used.get(pid, 0)),
        "score": state.scores.get(pid, 0),
        # Always present, as in ``phase.guess_started``: null until there is one.
        "yours": own,
        "rank": None,
    }
    if state.phase in ("scoreboard", "over"):
        me["rank"] = next(r.rank for r in ranking(state, ctx) if r.player_id == pid)
    return me
