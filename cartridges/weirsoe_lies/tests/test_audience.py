"""The audience as one extra player: its pick scores like one fooled player; its share shows at
every reveal step; its reactions make the "Audience Favourite"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_scoring import answer_of, state

from weirsoe_lies.audience import react_choice
from weirsoe_lies.scoring import audience_points
from weirsoe_lies.state import Answer
from weirsoe_sdk import InvalidAction
from weirsoe_sdk.testing import Harness

Start = Callable[..., Harness]


@pytest.mark.parametrize("m", [1, 2, 3])
def test_the_audience_pick_pays_like_one_fooled_player(m: int) -> None:
    lie = Answer(id="a", text="Lugano", authors=["p1", "p2"], half=["p2"])
    assert audience_points(lie, m) == {"p1": 500 * m, "p2": 250 * m}
    assert audience_points(Answer(id="t", text="Zürich", truth=True), m) == {}
    assert audience_points(Answer(id="h", text="Basel"), m) == {}


def _to_guess(start: Start) -> Harness:
    h = start(players=3)
    h.act("p1", {"type": "lie", "text": "Lugano"})
    h.act("p2", {"type": "lie_for_me"})
    h.fire_deadline()
    assert state(h).phase == "guess"
    return h


def _finish_question(h: Harness) -> list[dict]:
    h.fire_deadline()  # guess -> reveal: the tallies' counts reach the driver first
    while state(h).phase == "reveal":
        h.fire_deadline()
    return [m.json() for m in h.record.messages["host"] if m.type == "reveal.step"]


def test_audience_majority_on_a_lie_scores_its_author(start: Start) -> None:
    h = _to_guess(start)
    lugano = answer_of(h, text="Lugano")
    truth = next(a.id for a in state(h).answers if a.truth)
    for i in range(5):
        h.vote(f"m{i}", "truth", lugano)
    for i in range(5, 8):
        h.vote(f"m{i}", "truth", truth)
    h.vote("m0", "truth", truth)  # a re-vote replaces: 4 Lugano, 4 truth ... then back
    h.vote("m0", "truth", lugano)
    steps = _finish_question(h)
    assert state(h).scores["p1"] == 500  # nobody guessed: only the audience's pick scored
    shares = {s["answer"]["id"]: s["audience"] for s in steps}
    assert shares[lugano] == {"votes": 5, "total": 8, "share": 0.625, "pick": True}
    assert shares[truth] == {"votes": 3, "total": 8, "share": 0.375, "pick": False}
    assert all(s["audience"]["total"] == 8 for s in steps)  # every step shows its share


def test_audience_picking_the_truth_scores_nobody(start: Start) -> None:
    h = _to_guess(start)
    truth = next(a.id for a in state(h).answers if a.truth)
    h.vote("m1", "truth", truth)
    _finish_question(h)
    assert set(state(h).scores.values()) == {0}


def test_a_tie_is_broken_by_the_session_rng_and_replays_the_same(start: Start) -> None:
    picks = set()
    for _ in range(2):
        h = _to_guess(start)
        ids = [a.id for a in state(h).answers]
        h.vote("x", "truth", ids[0])
        h.vote("y", "truth", ids[1])
        h.fire_deadline()
        picks.add(state(h).crowd_pick)
        assert state(h).crowd_pick in ids[:2]
    assert len(picks) == 1  # same seed, same inputs: same pick


def test_no_audience_means_no_share_and_no_points(start: Start) -> None:
    h = _to_guess(start)
    steps = _finish_question(h)
    assert all(s["audience"] is None for s in steps)
    assert set(state(h).scores.values()) == {0}


def test_audience_reactions_are_capped_and_make_the_audience_favourite(start: Start) -> None:
    h = start(players=3, rounds=1, reaction_cap=2)
    h.act("p1", {"type": "lie", "text": "Lugano"})
    h.fire_deadline()
    lugano = answer_of(h, text="Lugano")
    h.vote("fan", "react", react_choice(lugano, "😂"))
    h.vote("fan", "react", react_choice(lugano, "🔥"))
    with pytest.raises(InvalidAction) as info:
        h.vote("fan", "react", react_choice(lugano, "👏"))
    assert info.value.code == "vote_cap"
    with pytest.raises(InvalidAction) as info:
        h.vote("fan", "react", react_choice(lugano, "🍕"))
    assert info.value.code == "unknown_choice"
    h.fire_deadline()  # to the reveal: a fresh reaction allowance
    h.vote("fan", "react", react_choice(lugano, "👏"))
    while h.table.status == "running":
        h.fire_deadline()
    awards = {a["key"]: a for a in h.table.results["awards"]}
    assert awards["audience_favourite"]["winners"] == ["p1"]
    assert awards["audience_favourite"]["value"] == 3
    assert awards["audience_favourite"]["title"] == "Audience Favourite"


def test_voting_outside_the_guess_phase_is_refused(start: Start) -> None:
    h = start(players=3)
    with pytest.raises(InvalidAction) as info:
        h.vote("m", "truth", "a1")
    assert info.value.code == "tally_closed"
