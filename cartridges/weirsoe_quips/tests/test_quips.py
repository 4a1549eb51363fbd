"""Weirsøe Quips' rules through the phase table: dealing, writing, voting, the final, awards,
family mode, timers, and bad input."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from weirsoe_quips.content import load_packs
from weirsoe_quips.plugin import make_cartridge
from weirsoe_quips.state import QuipsState
from weirsoe_sdk import Cartridge, InvalidAction, InvalidSettings, PlayerLeft, Refused, Viewer
from weirsoe_sdk.testing import Harness

Start = Callable[..., Harness]


def state(harness: Harness) -> QuipsState:
    current = harness.table.state
    assert isinstance(current, QuipsState)
    return current


def rejected(harness: Harness, pid: str, action: dict[str, Any]) -> str:
    before = harness.table.version
    with pytest.raises(InvalidAction) as info:
        harness.act(pid, action)
    assert harness.table.version == before
    return info.value.code


def answer_all(harness: Harness) -> None:
    for m in list(state(harness).matchups):
        for pid in m.players:
            harness.act(pid, {"type": "answer", "prompt": m.id, "text": f"{pid} on {m.id}"})


# -- dealing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("players", range(3, 9))
def test_each_player_gets_two_prompts_and_each_prompt_two_players(
    start: Start, players: int
) -> None:
    harness = start(players=players, seed=players)
    s = state(harness)
    assert len(s.matchups) == players
    assert all(len(set(m.players)) == 2 for m in s.matchups)
    load = Counter(p for m in s.matchups for p in m.players)
    assert load == dict.fromkeys(harness.player_ids, 2)
    assert len({frozenset(m.players) for m in s.matchups}) == players  # different opponents
    assert len({m.prompt_id for m in s.matchups}) == players


def test_the_second_round_deals_fresh_prompts_and_new_pairs(start: Start) -> None:
    harness = start(players=6, seed=1)
    first = state(harness).matchups
    while state(harness).round == 1:
        harness.fire_deadline()
    second = state(harness).matchups
    assert not {m.prompt_id for m in first} & {m.prompt_id for m in second}
    assert not {frozenset(m.players) for m in first} & {frozenset(m.players) for m in second}


def test_a_player_sees_only_their_own_prompts(start: Start) -> None:
    harness = start(players=5, seed=3)
    s = state(harness)
    view = harness.view(Viewer("player", "p1"))
    mine = {p["id"] for p in view["me"]["prompts"]}
    assert mine == {m.id for m in s.matchups if "p1" in m.players}
    host = harness.view(Viewer("host"))
    assert "me" not in host
    assert not any(m.prompt in json.dumps(host) for m in s.matchups)


# -- writing -----------------------------------------------------------------------------------
def test_writing_ends_when_every_connected_player_has_answered(start: Start) -> None:
    harness = start(players=4, seed=2)
    answer_all(harness)
    assert state(harness).phase == "vote"


def test_writing_waits_for_nobody_who_left(start: Start) -> None:
    harness = start(players=4, seed=2)
    for m in state(harness).matchups:
        for pid in m.players:
            if pid != "p4":
                harness.act(pid, {"type": "answer", "prompt": m.id, "text": f"{pid}!"})
    assert state(harness).phase == "write"
    harness.send(PlayerLeft(player_id="p4"))
    assert state(harness).phase in ("vote", "result")


def test_an_answer_may_change_until_the_phase_ends(start: Start) -> None:
    harness = start(players=3, seed=2)
    m = next(m for m in state(harness).matchups if "p1" in m.players)
    harness.act("p1", {"type": "answer", "prompt": m.id, "text": "first"})
    harness.act("p1", {"type": "answer", "prompt": m.id, "text": "second"})
    assert state(harness).entries[m.id]["p1"].text == "second"


def test_answer_for_me_never_copies_the_opponent(start: Start) -> None:
    for seed in range(10):
        harness = start(players=3, seed=seed)
        m = state(harness).matchups[0]
        a, b = m.players
        harness.act(a, {"type": "answer_for_me", "prompt": m.id})
        harness.act(b, {"type": "answer_for_me", "prompt": m.id})
        entries = state(harness).entries[m.id]
        assert entries[a].text != entries[b].text
        assert entries[a].house
        assert entries[b].house


def test_bad_answers_are_refused(start: Start) -> None:
    harness = start(players=3, seed=2, answer_max_length=20)
    m = next(m for m in state(harness).matchups if "p1" in m.players)
    other = next(m for m in state(harness).matchups if "p1" not in m.players)
    assert rejected(harness, "p1", {"type": "answer", "prompt": m.id, "text": "   "}) == (
        "answer_empty"
    )
    assert rejected(harness, "p1", {"type": "answer", "prompt": m.id, "text": "?!"}) == (
        "answer_empty"
    )
    long = "x" * 21
    assert rejected(harness, "p1", {"type": "answer", "prompt": m.id, "text": long}) == (
        "answer_too_long"
    )
    assert rejected(harness, "p1", {"type": "answer", "prompt": other.id, "text": "hi"}) == (
        "unknown_prompt"
    )
    assert rejected(harness, "p1", {"type": "answer", "prompt": "nope", "text": "hi"}) == (
        "unknown_prompt"
    )


def test_the_runtime_refuses_actions_outside_their_phase(start: Start) -> None:
    harness = start(players=4, seed=2)
    assert rejected(harness, "p1", {"type": "vote", "answer_id": "x"}) == "wrong_phase"
    assert rejected(harness, "p1", {"type": "final_vote", "answer_ids": []}) == "wrong_phase"
    assert rejected(harness, "p1", {"type": "react", "answer_id": "x", "emoji": "😂"}) == (
        "wrong_phase"
    )
    for junk in ({"type": "dance"}, {"text": "no type"}, {"type": "answer"}, {"type": "vote"}):
        assert rejected(harness, "p1", junk) == "bad_action"
    answer_all(harness)
    assert state(harness).phase == "vote"
    m = state(harness).matchup
    assert rejected(harness, m.players[0], {"type": "answer", "prompt": m.id, "text": "x"}) == (
        "wrong_phase"
    )


# -- voting ------------------------------------------------------------------------------------
def test_authors_cannot_vote_and_votes_are_final(start: Start) -> None:
    harness = start(players=4, seed=2)
    answer_all(harness)
    s = state(harness)
    a, _ = s.matchup.players
    voter = next(p for p in harness.player_ids if p not in s.matchup.players)
    option = s.order[0]
    assert rejected(harness, a, {"type": "vote", "answer_id": option}) == "own_faceoff"
    assert rejected(harness, voter, {"type": "vote", "answer_id": "a0"}) == "unknown_answer"
    harness.act(voter, {"type": "vote", "answer_id": option})
    assert rejected(harness, voter, {"type": "vote", "answer_id": option}) == "already_voted"


def test_the_vote_view_is_anonymous_and_shows_counts_only_after(start: Start) -> None:
    harness = start(players=4, seed=2)
    answer_all(harness)
    s = state(harness)
    host = harness.view(Viewer("host"))
    assert {a["id"] for a in host["faceoff"]["answers"]} == set(s.order)
    assert "author" not in json.dumps(host)
    author = s.matchup.players[0]
    assert harness.view(Viewer("player", author))["me"]["yours"] in s.order
    for voter in [p for p in harness.player_ids if p not in s.matchup.players]:
        harness.act(voter, {"type": "vote", "answer_id": s.order[0]})
    result = harness.view(Viewer("host"))["result"]
    assert sorted(r["votes"] for r in result["answers"]) == [0, 2]
    assert {r["author"] for r in result["answers"]} == set(s.matchup.players)
    assert "my_vote" not in json.dumps(harness.view(Viewer("host")))


def test_reactions_count_for_the_crowd_favourite(start: Start) -> None:
    harness = start(players=4, seed=2, reaction_cap=2)
    answer_all(harness)
    s = state(harness)
    voter = next(p for p in harness.player_ids if p not in s.matchup.players)
    target = s.order[0]
    author = next(e.author for e in s.shown() if e.id == target)
    harness.act(voter, {"type": "react", "answer_id": target, "emoji": "😂"})
    harness.act(voter, {"type": "react", "answer_id": target, "emoji": "🔥"})
    assert rejected(harness, voter, {"type": "react", "answer_id": target, "emoji": "😂"}) == (
        "reaction_cap"
    )
    assert rejected(harness, author, {"type": "react", "answer_id": target, "emoji": "🍕"}) == (
        "bad_emoji"
    )
    assert state(harness).stats[author].reactions == {"😂": 1, "🔥": 1}


# -- the final round and the end ---------------------------------------------------------------
def test_final_votes_must_be_three_for_others(start: Start) -> None:
    harness = start(players=3, seed=2)
    while state(harness).round < 3:
        harness.fire_deadline()
    for pid in harness.player_ids:
        harness.act(pid, {"type": "answer", "prompt": "final", "text": f"final {pid}"})
    s = state(harness)
    assert s.phase == "final_vote"
    ids = {e.author: e.id for e in s.shown()}
    vote = {"type": "final_vote"}
    assert rejected(harness, "p1", {**vote, "answer_ids": [ids["p2"]]}) == "vote_count"
    assert rejected(harness, "p1", {**vote, "answer_ids": [ids["p1"]] * 3}) == "own_answer"
    assert rejected(harness, "p1", {**vote, "answer_ids": ["zz"] * 3}) == "unknown_answer"
    harness.act("p1", {**vote, "answer_ids": [ids["p2"], ids["p3"], ids["p3"]]})
    assert rejected(harness, "p1", {**vote, "answer_ids": [ids["p2"]] * 3}) == "already_voted"


def test_final_duplicates_are_a_jinx_and_get_no_votes(start: Start) -> None:
    harness = start(players=4, seed=2)
    while state(harness).round < 3:
        harness.fire_deadline()
    for pid in harness.player_ids:
        text = "Same!" if pid in ("p1", "p2") else f"final {pid}"
        harness.act(pid, {"type": "answer", "prompt": "final", "text": text})
    view = harness.view(Viewer("host"))
    texts = [a["text"] for a in view["faceoff"]["answers"]]
    assert sorted(texts) == ["final p3", "final p4"]


def test_a_whole_game_ends_with_rankings_and_awards(quips: Cartridge) -> None:
    record = Harness(quips, players=6, seed=3).play()
    assert record.table.status == "over"
    results = record.results
    assert [r["player_id"] for r in results["ranking"]]
    assert {a["key"] for a in results["awards"]} <= {
        "most_votes",
        "clean_sweeps",
        "crowd_favourite",
    }
    kinds = record.types_for("host")
    for kind in (
        "weirsoe_quips.writing_started",
        "weirsoe_quips.faceoff_started",
        "weirsoe_quips.faceoff_result",
        "weirsoe_quips.final_vote_started",
        "weirsoe_quips.scoreboard",
        "weirsoe_quips.game_over",
    ):
        assert kind in kinds, kind
    assert kinds.count("weirsoe_quips.writing_started") == 3


# -- settings, family mode, timers -------------------------------------------------------------
def test_family_mode_filters_prompts_answers_and_names(quips: Cartridge) -> None:
    driver = quips.driver
    family = driver.pool(quips.load_settings({"family_mode": True}))  # type: ignore[attr-defined]
    every = driver.pool(quips.load_settings(None))  # type: ignore[attr-defined]
    assert all(p.family_safe for p in family)
    assert len(family) < len(every)
    harness = Harness(quips, players=3, seed=1, settings={"family_mode": True})
    with pytest.raises(Refused) as info:
        harness.runtime.clean_name(harness.table, "shit")
    assert info.value.code == "name_profane"
    harness.join_all()
    harness.control("play")
    m = next(m for m in state(harness).matchups if "p1" in m.players)
    assert rejected(harness, "p1", {"type": "answer", "prompt": m.id, "text": "oh shit"}) == (
        "answer_profane"
    )


@pytest.mark.parametrize("extended", [False, True])
def test_extended_timers_stretch_writing_and_voting(start: Start, extended: bool) -> None:
    harness = start(players=4, seed=2, write_seconds=60, vote_seconds=20, extended_timers=extended)
    factor = 1.5 if extended else 1.0
    deadline = harness.table.deadline
    assert deadline is not None
    assert deadline.at - harness.clock.now == pytest.approx(60 * factor)
    answer_all(harness)
    deadline = harness.table.deadline
    assert deadline is not None
    assert deadline.at - harness.clock.now == pytest.approx(20 * factor)


def test_unknown_packs_and_small_pools_are_refused(quips: Cartridge, tmp_path: Path) -> None:
    with pytest.raises(InvalidSettings, match="unknown pack"):
        quips.load_settings({"packs": ["nope"]})
    folder = tmp_path / "weirsoe_quips"
    folder.mkdir()
    small = {
        "slug": "tiny",
        "title": "Tiny",
        "version": 1,
        "prompts": [
            {
                "id": f"t{i}",
                "prompt": f"Prompt number {i}",
                "house_answers": ["apple", "pear", "plum"],
                "category": "Test",
                "family_safe": True,
            }
            for i in range(5)
        ],
    }
    (folder / "tiny.json").write_text(json.dumps(small), encoding="utf-8")
    cartridge = make_cartridge(tmp_path)
    with pytest.raises(InvalidSettings, match="only 5 available"):
        cartridge.load_settings({"packs": ["tiny"]})
    assert "tiny" in load_packs([folder])
