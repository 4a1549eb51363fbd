"""Weirsøe Lies' phone model, in Python: what a phone's controller keeps of the game.

A line-for-line port of ``reduce`` in ``weirsoe_lies/ui/model.js``, plus the two changes the
controller (``controller.js``) makes itself once the server acknowledges the player's own
action (:func:`acknowledged`). ``bench/capacity.py --clients browser`` plays from this model
as a phone does, instead of asking for a snapshot before every action.
``tests/test_bench_model.py`` checks, over whole harness games, that a model kept from one
snapshot and the events reaches the bot's decisions that the server's own view does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["REDUCED", "acknowledged", "reduce"]

# The messages that change the model: the others only move the version on.
REDUCED = frozenset(
    {
        "session.snapshot",
        "phase.question_shown",
        "phase.lie_started",
        "lie.submitted",
        "lie.accepted",
        "phase.guess_started",
        "guess.submitted",
        "reveal.step",
        "phase.scores_calculated",
        "phase.scoreboard",
        "phase.game_over",
    }
)


def reduce(m: dict[str, Any], msg: Mapping[str, Any]) -> None:
    """Apply one message to the model ``m``, as ``reduce`` in model.js does."""
    kind = msg.get("type")
    me = m.get("me")
    if kind == "session.snapshot":
        m.clear()
        m.update(copy.deepcopy(msg.get("view") or {}))
        if not m.get("reveal"):
            m["reveal"] = []
    elif kind == "phase.question_shown":
        m.update(
            phase="lie",
            round=msg.get("round"),
            rounds=msg.get("rounds"),
            question=msg.get("question"),
            questions=msg.get("questions"),
            multiplier=msg.get("multiplier"),
            category=msg.get("category"),
            submitted=[],
            answers=[],
            guessed=[],
            reveal=[],
            ranking=None,
            deltas=None,
        )
        if me:
            me.update(
                lie=None,
                lie_for_me=False,
                guess=None,
                yours=None,
                reactions_left=m.get("reaction_cap"),
            )
    elif kind == "phase.lie_started":
        m.update(phase="lie", prompt=msg.get("prompt"), max_length=msg.get("max_length"))
    elif kind == "lie.submitted":
        _add(m, "submitted", msg.get("player_id"))
    elif kind == "lie.accepted":
        if me:
            me.update(lie=msg.get("text"), lie_for_me=msg.get("lie_for_me"))
    elif kind == "phase.guess_started":
        m.update(phase="guess", answers=msg.get("answers"), guessed=[])
        if me:
            me.update(yours=msg.get("yours"), guess=None, reactions_left=m.get("reaction_cap"))
    elif kind == "guess.submitted":
        _add(m, "guessed", msg.get("player_id"))
    elif kind == "reveal.step":
        first = m.get("phase") != "reveal"
        m["phase"] = "reveal"
        steps = [s for s in m.get("reveal") or [] if s.get("index") != msg.get("index")]
        steps.append(
            {
                key: msg.get(key)
                for key in ("index", "total", "answer", "pickers", "points", "scores", "audience")
            }
        )
        steps.sort(key=lambda s: s["index"])
        m["reveal"] = steps
        m["scores"] = dict(msg.get("scores") or {})
        if first and me:
            me["reactions_left"] = m.get("reaction_cap")
        _my_score(m)
    elif kind == "phase.scores_calculated":
        m["deltas"] = dict(msg.get("deltas") or {})
        m["scores"] = dict(msg.get("scores") or {})
        _my_score(m)
    elif kind == "phase.scoreboard":
        m.update(phase="scoreboard", ranking=msg.get("ranking"), last=msg.get("last"))
        _rank_me(m)
    elif kind == "phase.game_over":
        m.update(
            phase="over",
            ranking=msg.get("ranking"),
            awards=msg.get("awards"),
            history=msg.get("questions"),
            deltas=None,
        )
        _rank_me(m)


def acknowledged(m: dict[str, Any], action: Mapping[str, Any]) -> None:
    """What the controller changes itself once the server acknowledged ``action``: a guess
    is the player's guess, and a reaction spends one of the phase's reactions."""
    me = m.get("me")
    if not me:
        return
    if action.get("type") == "guess":
        me["guess"] = action.get("answer_id")
    elif action.get("type") == "react":
        me["reactions_left"] = max(0, (me.get("reactions_left") or 1) - 1)


def _add(m: dict[str, Any], key: str, player_id: Any) -> None:
    seen = m.get(key) or []
    m[key] = seen
    if player_id not in seen:
        seen.append(player_id)


def _my_score(m: dict[str, Any]) -> None:
    me = m.get("me")
    if me:
        me["score"] = m["scores"].get(me.get("id"), me.get("score"))


def _rank_me(m: dict[str, Any]) -> None:
    me = m.get("me")
    if not me or not m.get("ranking"):
        return
    for entry in m["ranking"]:
        if entry.get("player_id") == me.get("id"):
            me.update(rank=entry.get("rank"), score=entry.get("score"))
            return
