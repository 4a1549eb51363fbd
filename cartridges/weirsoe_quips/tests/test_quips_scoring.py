"""Every row of the scoring table in docs/weirsoe_quips.md, first as pure functions, then
through whole face-offs played by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from weirsoe_quips.scoring import faceoff_points, final_points
from weirsoe_quips.state import QuipsState
from weirsoe_sdk import Viewer
from weirsoe_sdk.testing import Harness

Start = Callable[..., Harness]


def state(harness: Harness) -> QuipsState:
    current = harness.table.state
    assert isinstance(current, QuipsState)
    return current


# -- the table, row by row (pure) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("votes", "rnd", "expected", "sweeps"),
    [
        ({"a": 2, "b": 1}, 1, {"a": 667, "b": 333}, []),  # share x 1000 x round
        ({"a": 2, "b": 1}, 2, {"a": 1333, "b": 667}, []),  # round 2 doubles
        ({"a": 1, "b": 1}, 1, {"a": 500, "b": 500}, []),
        ({"a": 3, "b": 0}, 1, {"a": 1000 + 250, "b": 0}, ["a"]),  # clean sweep, 250 x round
        ({"a": 0, "b": 4}, 2, {"a": 0, "b": 2000 + 500}, ["b"]),
        ({"a": 0, "b": 0}, 1, {"a": 0, "b": 0}, []),  # nobody voted: nothing
    ],
)
def test_share_and_clean_sweep(
    votes: dict[str, int], rnd: int, expected: dict[str, int], sweeps: list[str]
) -> None:
    house = dict.fromkeys(votes, False)
    got = faceoff_points(votes, house, round=rnd, jinx=False, forfeit_points=500)
    assert got == (expected, sweeps)


def test_answer_for_me_earns_half() -> None:
    got, _ = faceoff_points(
        {"a": 3, "b": 0}, {"a": True, "b": False}, round=1, jinx=False, forfeit_points=500
    )
    assert got == {"a": 625, "b": 0}


@pytest.mark.parametrize(("rnd", "points"), [(1, 500), (2, 1000)])
def test_forfeit(rnd: int, points: int) -> None:
    assert faceoff_points({"a": 0}, {"a": False}, round=rnd, jinx=False, forfeit_points=500) == (
        {"a": points},
        [],
    )
    assert faceoff_points({"a": 0}, {"a": True}, round=rnd, jinx=False, forfeit_points=500) == (
        {"a": points // 2},
        [],
    )


def test_jinx_scores_nothing() -> None:
    got = faceoff_points(
        {"a": 3, "b": 0}, {"a": False, "b": False}, round=2, jinx=True, forfeit_points=500
    )
    assert got == ({"a": 0, "b": 0}, [])


def test_final_votes_are_300_each_and_half_for_answer_for_me() -> None:
    assert final_points({"a": 4, "b": 0, "c": 2}, dict.fromkeys("abc", False)) == {
        "a": 1200,
        "b": 0,
        "c": 600,
    }
    assert final_points({"a": 3}, {"a": True}) == {"a": 450}


# -- the same rows through the driver ----------------------------------------------------------
def write_all(harness: Harness, text_for: Callable[[str, str], str | None]) -> None:
    """Every player answers their prompts with ``text_for(player, matchup)`` (None: silent,
    "<house>": answer for me)."""
    for m in list(state(harness).matchups):
        for pid in m.players:
            text = text_for(pid, m.id)
            if text == "<house>":
                harness.act(pid, {"type": "answer_for_me", "prompt": m.id})
            elif text is not None:
                harness.act(pid, {"type": "answer", "prompt": m.id, "text": text})


def cast(
    harness: Harness, pick: Callable[[str, list[dict[str, Any]], dict[str, str]], str]
) -> None:
    """Every eligible voter votes; ``pick(voter, answers, authors)`` names an author."""
    s = state(harness)
    authors = {e.id: e.author for e in s.shown()}
    by_author = {v: k for k, v in authors.items()}
    answers = harness.view(Viewer("host"))["faceoff"]["answers"]
    for voter in [p for p in harness.player_ids if p not in s.matchup.players]:
        harness.act(voter, {"type": "vote", "answer_id": by_author[pick(voter, answers, authors)]})


def unique(pid: str, mid: str) -> str:
    return f"{pid} says {mid}"


def test_a_clean_sweep_in_round_one_through_the_driver(start: Start) -> None:
    harness = start(players=4, seed=2)
    write_all(harness, unique)
    s = state(harness)
    assert s.phase == "vote"
    a, b = s.matchup.players
    cast(harness, lambda voter, answers, authors: a)  # everyone votes for a
    s = state(harness)
    assert s.phase == "result"
    result = {r["author"]: r for r in s.result["answers"]}  # type: ignore[index]
    assert result[a]["points"] == 1000 + 250
    assert result[a]["sweep"]
    assert result[b]["points"] == 0
    assert not result[b]["sweep"]
    assert s.scores[a] == 1250
    assert s.stats[a].sweeps == 1
    assert s.stats[a].votes == 2


def test_a_split_vote_in_round_two_through_the_driver(start: Start) -> None:
    harness = start(players=5, seed=4)
    # Round 1: nobody answers; every face-off is empty.
    while state(harness).round == 1:
        harness.fire_deadline()
    write_all(harness, unique)
    s = state(harness)
    assert s.round == 2
    assert s.phase == "vote"
    a, b = s.matchup.players
    voters = [p for p in harness.player_ids if p not in (a, b)]
    first = voters[0]
    cast(harness, lambda voter, answers, authors: a if voter == first else b)
    result = {r["author"]: r for r in state(harness).result["answers"]}  # type: ignore[index]
    assert result[a]["points"] == round(1000 * 2 * 1 / 3)
    assert result[b]["points"] == round(1000 * 2 * 2 / 3)


def test_forfeit_and_answer_for_me_through_the_driver(start: Start) -> None:
    harness = start(players=4, seed=5, forfeit_points=400)
    first = state(harness).matchups[0]
    a, b = first.players
    # a answers "for me" on the first prompt; b stays silent there: a wins by forfeit, halved.
    write_all(
        harness,
        lambda pid, mid: (
            None
            if (pid, mid) == (b, first.id)
            else ("<house>" if (pid, mid) == (a, first.id) else unique(pid, mid))
        ),
    )
    assert state(harness).phase == "write"  # b is still writing
    harness.fire_deadline()
    s = state(harness)
    assert s.phase == "result"  # no vote on a forfeit
    assert s.result["forfeit"] is True  # type: ignore[index]
    (answer,) = s.result["answers"]  # type: ignore[index]
    assert answer["author"] == a
    assert answer["house"] is True
    assert answer["text"] in first.house
    assert answer["points"] == 400 // 2


def test_a_jinx_scores_nothing_through_the_driver(start: Start) -> None:
    harness = start(players=4, seed=6)
    first = state(harness).matchups[0]
    write_all(harness, lambda pid, mid: "Same Thing!" if mid == first.id else unique(pid, mid))
    s = state(harness)
    assert s.phase == "result"
    assert s.result["jinx"] is True
    assert all(r["points"] == 0 and r["jinx"] for r in s.result["answers"])  # type: ignore[index]
    assert set(s.scores.values()) == {0}


def test_the_final_round_through_the_driver(start: Start) -> None:
    harness = start(players=4, seed=7)
    while state(harness).round < 3:
        harness.fire_deadline()
    s = state(harness)
    assert s.final
    assert s.phase == "write"
    assert s.matchups[0].players == harness.player_ids
    for pid in harness.player_ids:
        kind = (
            {"type": "answer_for_me"}
            if pid == "p4"
            else {"type": "answer", "text": unique(pid, "f")}
        )
        harness.act(pid, {**kind, "prompt": "final"})
    s = state(harness)
    assert s.phase == "final_vote"
    ids = {e.author: e.id for e in s.shown()}
    harness.act("p1", {"type": "final_vote", "answer_ids": [ids["p2"]] * 3})
    harness.act("p2", {"type": "final_vote", "answer_ids": [ids["p1"], ids["p4"], ids["p4"]]})
    harness.act("p3", {"type": "final_vote", "answer_ids": [ids["p2"], ids["p4"], ids["p1"]]})
    harness.act("p4", {"type": "final_vote", "answer_ids": [ids["p2"], ids["p2"], ids["p2"]]})
    s = state(harness)
    assert s.phase == "result"
    points = {r["author"]: r["points"] for r in s.result["answers"]}  # type: ignore[index]
    assert points == {"p1": 600, "p2": 2100, "p3": 0, "p4": 900 // 2}


def test_the_audience_majority_is_one_extra_vote(start: Start) -> None:
    harness = start(players=3, seed=8)
    write_all(harness, unique)
    s = state(harness)
    assert s.phase == "vote"
    a, b = s.matchup.players
    ids = {e.author: e.id for e in s.shown()}
    for member in ("x1", "x2", "x3"):  # the crowd prefers b
        harness.vote(member, "vote", ids[b] if member != "x3" else ids[a])
    cast(harness, lambda voter, answers, authors: a)  # the one player votes for a
    result = {r["author"]: r for r in state(harness).result["answers"]}  # type: ignore[index]
    assert (result[a]["votes"], result[b]["votes"]) == (1, 1)
    assert (result[a]["points"], result[b]["points"]) == (500, 500)


def test_the_audience_votes_in_the_final_too(start: Start) -> None:
    harness = start(players=3, seed=9)
    while state(harness).round < 3:
        harness.fire_deadline()
    for pid in harness.player_ids:
        harness.act(pid, {"type": "answer", "prompt": "final", "text": unique(pid, "f")})
    ids = {e.author: e.id for e in state(harness).shown()}
    harness.vote("x1", "vote", ids["p3"])
    harness.act("p1", {"type": "final_vote", "answer_ids": [ids["p2"]] * 3})
    harness.act("p2", {"type": "final_vote", "answer_ids": [ids["p1"]] * 3})
    harness.act("p3", {"type": "final_vote", "answer_ids": [ids["p1"]] * 3})
    points = {r["author"]: r["points"] for r in state(harness).result["answers"]}  # type: ignore[index]
    assert points == {"p1": 1800, "p2": 900, "p3": 300}
