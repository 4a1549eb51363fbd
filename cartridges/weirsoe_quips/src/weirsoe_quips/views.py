"""What the host screen, each player and the audience see, and the secrets the leak checker
holds them to. Never another player's secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from weirsoe_sdk import Context, Secret, Viewer

from .awards import EMOJI, awards_for, ranking
from .settings import QuipsSettings
from .state import FINAL_ROUND, QuipsState

if TYPE_CHECKING:
    from .driver import QuipsDriver

__all__ = ["build_view", "secrets_of"]

Ctx = Context[QuipsSettings]


def build_view(driver: QuipsDriver, state: QuipsState, viewer: Viewer, ctx: Ctx) -> dict[str, Any]:
    from .driver import FINAL_VOTES

    view: dict[str, Any] = {
        "phase": state.phase,
        "round": state.round,
        "rounds": FINAL_ROUND,
        "multiplier": state.round,
        "final": state.final,
        "emoji": list(EMOJI),
        "reaction_cap": ctx.settings.reaction_cap,
        "max_length": ctx.settings.answer_max_length,
        "scores": dict(state.scores),
    }
    if state.phase == "write":
        done = state.finished_writing()
        view["done"] = [pid for pid in ctx.player_ids if pid in done]
        if state.final:
            view["prompt"] = state.matchup.prompt
    if state.phase in ("vote", "final_vote"):
        final = state.phase == "final_vote"
        options = {e.id for e in driver._final_options(state, "")} if final else None
        view["faceoff"] = {
            "index": state.index + 1,
            "count": len(state.matchups),
            "prompt": state.matchup.prompt,
            "category": state.matchup.category,
            "answers": [
                {"id": e.id, "text": e.text}
                for e in state.shown()
                if options is None or e.id in options
            ],
        }
        ballots = state.final_votes if final else state.votes
        view["voted"] = [pid for pid in ctx.player_ids if pid in ballots]
        view["voters"] = driver.voters(state, ctx)
        view["votes_each"] = FINAL_VOTES if final else 1
    if state.phase == "result":
        view["result"] = state.result
    if state.phase in ("scoreboard", "over"):
        view["ranking"] = msgspec.to_builtins(ranking(state, ctx))
        view["deltas"] = dict(state.deltas)
    if state.phase == "over":
        view["awards"] = msgspec.to_builtins(awards_for(state))
    if viewer.role == "player" and viewer.player_id is not None:
        view["me"] = _me(driver, state, viewer.player_id, ctx)
    return view


def _me(driver: QuipsDriver, state: QuipsState, pid: str, ctx: Ctx) -> dict[str, Any]:
    me: dict[str, Any] = {
        "id": pid,
        "score": state.scores.get(pid, 0),
        "reactions_left": max(0, ctx.settings.reaction_cap - state.reactions_used.get(pid, 0)),
    }
    if state.phase == "write":
        me["prompts"] = []
        for m in state.matchups:
            if pid in m.players:
                entry = state.entries.get(m.id, {}).get(pid)
                me["prompts"].append(
                    {
                        "id": m.id,
                        "prompt": m.prompt,
                        "category": m.category,
                        "answer": entry.text if entry else None,
                        "answer_for_me": bool(entry and entry.house),
                    }
                )
    if state.phase in ("vote", "final_vote"):
        own = next((e.id for e in state.shown() if e.author == pid), None)
        if own is not None:
            me["yours"] = own
        me["can_vote"] = pid in driver.voters(state, ctx)
        if state.phase == "vote" and pid in state.votes:
            me["my_vote"] = state.votes[pid]
        if state.phase == "final_vote" and pid in state.final_votes:
            me["my_votes"] = list(state.final_votes[pid])
    if state.phase in ("scoreboard", "over"):
        me["rank"] = next(r.rank for r in ranking(state, ctx) if r.player_id == pid)
    return me


def _quoted(text: str) -> str:
    return msgspec.json.encode(text).decode()


def secrets_of(driver: QuipsDriver, state: QuipsState, ctx: Ctx) -> list[Secret]:
    """Prompts and answers until their face-off; authorship until the vote ends; votes always."""
    if state.phase == "over":
        return []
    out: list[Secret] = []
    revealed = state.phase in ("vote", "result", "final_vote")
    hidden = [
        m
        for i, m in enumerate(state.matchups)
        if not (revealed and (state.final or i <= state.index))
    ]
    public = {
        _quoted(e.text)
        for i, m in enumerate(state.matchups)
        if m not in hidden
        for e in state.entries.get(m.id, {}).values()
    }
    owners: dict[str, set[str]] = {}
    for m in hidden:
        if not state.final:
            out.append(Secret(_quoted(m.prompt), frozenset(m.players), f"the prompt {m.id}"))
        for e in state.entries.get(m.id, {}).values():
            owners.setdefault(_quoted(e.text), set()).add(e.author)
    for text, who in owners.items():
        if text not in public:
            out.append(Secret(text, frozenset(who), "an answer before its face-off"))
    if state.phase in ("write", "vote", "final_vote"):
        out.append(Secret('"author":', frozenset(), "authorship"))
        for e in state.shown() if state.phase != "write" else []:
            out.append(Secret(f'"yours":"{e.id}"', frozenset({e.author}), "answer ownership"))
    if state.phase in ("vote", "result"):
        picked: dict[str, set[str]] = {}
        for voter, aid in state.votes.items():
            picked.setdefault(aid, set()).add(voter)
        for aid, voters in picked.items():
            out.append(Secret(f'"my_vote":"{aid}"', frozenset(voters), "a vote"))
    if state.phase in ("final_vote", "result"):
        ballots: dict[str, set[str]] = {}
        for voter, ids in state.final_votes.items():
            ballots.setdefault(_quoted_list(ids), set()).add(voter)
        for text, voters in ballots.items():
            out.append(Secret(f'"my_votes":{text}', frozenset(voters), "final votes"))
    return out


def _quoted_list(ids: list[str]) -> str:
    return msgspec.json.encode(ids).decode()
