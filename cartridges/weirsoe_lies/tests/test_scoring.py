"""The scoring table, as pure functions and as played: truth, fooling, merging, halves, house."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from weirsoe_lies.events import RevealStep, ScoresCalculated
from weirsoe_lies.scoring import FOOLED, TRUTH, award_points
from weirsoe_lies.state import Answer, LiesState
from weirsoe_sdk import Cartridge
from weirsoe_sdk.testing import Harness

Start = Callable[..., Harness]


# -- the table as pure functions ---------------------------------------------------------------
def test_the_constants() -> None:
    assert (TRUTH, FOOLED) == (1000, 500)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_finding_the_truth_earns_1000_times_m(m: int) -> None:
    truth = Answer(id="t", text="Zürich", truth=True)
    assert award_points(truth, ["p1", "p2"], m, 0) == {"p1": 1000 * m, "p2": 1000 * m}
    assert award_points(truth, [], m, 0) == {}


@pytest.mark.parametrize("m", [1, 2, 3])
def test_each_player_fooled_earns_the_author_500_times_m(m: int) -> None:
    answer = Answer(id="a", text="Lugano", authors=["p1"])
    assert award_points(answer, ["p2"], m, 0) == {"p1": 500 * m}
    assert award_points(answer, ["p2", "p3", "p4"], m, 0) == {"p1": 3 * 500 * m}
    assert award_points(answer, [], m, 0) == {"p1": 0}


def test_merged_identical_lies_pay_each_author_in_full() -> None:
    answer = Answer(id="a", text="Lugano", authors=["p1", "p2"])
    assert award_points(answer, ["p3", "p4"], 2, 0) == {"p1": 2000, "p2": 2000}


def test_a_lie_for_me_earns_half() -> None:
    answer = Answer(id="a", text="Basel", authors=["p1", "p2"], half=["p2"])
    assert award_points(answer, ["p3"], 1, 0) == {"p1": 500, "p2": 250}
    assert award_points(answer, ["p3", "p4"], 3, 0) == {"p1": 3000, "p2": 1500}


@pytest.mark.parametrize(("penalty", "m"), [(100, 1), (100, 3), (250, 2)])
def test_picking_a_house_lie_costs_the_penalty_times_m(penalty: int, m: int) -> None:
    house = Answer(id="h", text="Geneva")
    assert house.house
    assert award_points(house, ["p1", "p2"], m, penalty) == {
        "p1": -penalty * m,
        "p2": -penalty * m,
    }


def test_the_house_penalty_is_off_by_default() -> None:
    assert award_points(Answer(id="h", text="Geneva"), ["p1"], 3, 0) == {}


# -- the table as played -----------------------------------------------------------------------
def state(harness: Harness) -> LiesState:
    value = harness.table.state
    assert isinstance(value, LiesState)
    return value


def answer_of(harness: Harness, *, text: str | None = None, house: bool = False) -> str:
    for a in state(harness).answers:
        if (text is not None and a.text == text) or (house and a.house):
            return a.id
    raise LookupError(text)


def skip_to_question(harness: Harness, index: int) -> None:
    """Let the timers run (nobody acts, so nobody scores) until question ``index`` opens."""
    while (state(harness).index, state(harness).phase) != (index, "lie"):
        harness.fire_deadline()


@pytest.mark.parametrize(("index", "m"), [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3)])
@pytest.mark.parametrize("penalty", [0, 100])
def test_one_question_scored_by_the_table(start: Start, index: int, m: int, penalty: int) -> None:
    harness = start(players=4, house_lie_penalty=penalty)
    skip_to_question(harness, index)
    assert state(harness).card.multiplier == m
    assert set(state(harness).scores.values()) == {0}

    harness.act("p1", {"type": "lie", "text": "Lugano"})
    harness.act("p2", {"type": "lie_for_me"})
    harness.act("p3", {"type": "lie", "text": "lugano!"})  # merges with p1's lie
    harness.fire_deadline()  # p4 wrote nothing: a house lie takes the seat
    half = state(harness).lies["p2"].text
    harness.act("p1", {"type": "guess", "answer_id": answer_of(harness, text=half)})
    harness.act("p2", {"type": "guess", "answer_id": answer_of(harness, text="Lugano")})
    truth = next(a.id for a in state(harness).answers if a.truth)
    harness.act("p3", {"type": "guess", "answer_id": truth})
    step = harness.act("p4", {"type": "guess", "answer_id": answer_of(harness, house=True)})

    reveal_points: Counter[str] = Counter()
    steps = [d.event for d in step.deliveries if isinstance(d.event, RevealStep)]
    while state(harness).phase == "reveal":
        fired = harness.fire_deadline()
        assert fired is not None
        steps += [d.event for d in fired.deliveries if isinstance(d.event, RevealStep)]
        calculated = [d.event for d in fired.deliveries if isinstance(d.event, ScoresCalculated)]
    for event in steps:
        reveal_points.update(event.points)

    expected = {"p1": 500 * m, "p2": 250 * m, "p3": 500 * m + 1000 * m, "p4": -penalty * m}
    assert len(steps) == 4
    assert calculated[0].deltas == expected
    assert calculated[0].scores == expected
    assert {p: reveal_points[p] for p in expected} == expected
    assert state(harness).scores == expected
    assert state(harness).history[-1].deltas == expected
    assert state(harness).history[-1].multiplier == m


def test_two_players_fooled_by_one_lie(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", {"type": "lie", "text": "Lugano"})
    harness.fire_deadline()
    lugano = answer_of(harness, text="Lugano")
    harness.act("p1", {"type": "guess", "answer_id": answer_of(harness, house=True)})
    harness.act("p2", {"type": "guess", "answer_id": lugano})
    harness.act("p3", {"type": "guess", "answer_id": lugano})
    while state(harness).phase == "reveal":
        harness.fire_deadline()
    assert state(harness).scores == {"p1": 1000, "p2": 0, "p3": 0}
    assert state(harness).stats["p1"].fooled == 2


# -- whole simulated games ---------------------------------------------------------------------
def _check_game(record: Any) -> None:
    host = [m.json() for m in record.messages["host"]]
    per_question: list[Counter[str]] = []
    running: Counter[str] = Counter()
    for message in host:
        if message["type"] == "phase.question_shown":
            per_question.append(Counter())
        elif message["type"] == "reveal.step":
            per_question[-1].update(message["points"])
            running.update(message["points"])
            assert message["scores"] == {p: running[p] for p in message["scores"]}
        elif message["type"] == "phase.scores_calculated":
            deltas = message["deltas"]
            assert {p: v for p, v in deltas.items() if v} == {
                p: v for p, v in per_question[-1].items() if v
            }
    results = record.results
    assert len(results["questions"]) == len(per_question) == 5
    totals: Counter[str] = Counter()
    for question in results["questions"]:
        totals.update(question["deltas"])
    final = {row["player_id"]: row["score"] for row in results["ranking"]}
    assert final == {p: totals[p] for p in final}
    assert final == {p: running[p] for p in final}
    assert [q["multiplier"] for q in results["questions"]] == [1, 1, 2, 2, 3]


@pytest.mark.parametrize("seed", range(6))
def test_simulated_scores_add_up(lies: Cartridge, seed: int) -> None:
    record = Harness(lies, players=2 + seed, seed=seed, chaos=0.05).play()
    assert record.table.status == "over"
    _check_game(record)


def test_simulated_scores_add_up_with_a_house_penalty(lies: Cartridge) -> None:
    record = Harness(lies, players=5, seed=3, settings={"house_lie_penalty": 300}).play()
    _check_game(record)
    lost = [
        points
        for m in record.messages["host"]
        if m.type == "reveal.step" and m.json()["answer"]["house"]
        for points in m.json()["points"].values()
    ]
    assert lost
    assert all(p < 0 and p % 300 == 0 for p in lost)
