"""The rules of Weirsøe Lies, one input at a time: lies, guesses, reactions, phases, awards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from weirsoe_lies.awards import EMOJI, awards_for, ranking
from weirsoe_lies.events import GuessStarted, LieAccepted, RevealStep
from weirsoe_lies.state import LiesState, Stats
from weirsoe_sdk import (
    Cartridge,
    Context,
    InvalidAction,
    PlayerJoined,
    PlayerLeft,
    PlayerReconnected,
    Refused,
    Runtime,
    Seat,
    Viewer,
)
from weirsoe_sdk.testing import Harness

Start = Callable[..., Harness]
LIE_FOR_ME = {"type": "lie_for_me"}


def lie(text: str) -> dict[str, Any]:
    return {"type": "lie", "text": text}


def guess(answer_id: str) -> dict[str, Any]:
    return {"type": "guess", "answer_id": answer_id}


def react(answer_id: str, emoji: str = "😂") -> dict[str, Any]:
    return {"type": "react", "answer_id": answer_id, "emoji": emoji}


def state(harness: Harness) -> LiesState:
    value = harness.table.state
    assert isinstance(value, LiesState)
    return value


def answer_id(harness: Harness, text: str) -> str:
    return next(a.id for a in state(harness).answers if a.text == text)


def truth_id(harness: Harness) -> str:
    return next(a.id for a in state(harness).answers if a.truth)


def rejected(harness: Harness, player_id: str, action: dict[str, Any]) -> str:
    """The code an action is rejected with; the table must not change."""
    before = harness.encoded
    with pytest.raises(InvalidAction) as info:
        harness.act(player_id, action)
    assert harness.encoded == before
    return info.value.code


def events_of(step: Any, kind: type) -> list[Any]:
    return [d for d in step.deliveries if isinstance(d.event, kind)]


# -- writing lies ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "\u200b\u202e", "!!!", "¿?…", "\x00\x07"])
def test_an_empty_lie_is_rejected(start: Start, text: str) -> None:
    assert rejected(start(), "p1", lie(text)) == "lie_empty"


def test_a_lie_too_long_is_rejected_after_cleaning(start: Start) -> None:
    harness = start(lie_max_length=10)
    assert rejected(harness, "p1", lie("x" * 11)) == "lie_too_long"
    harness.act("p1", lie("y" * 10))
    harness.act("p2", lie("abcde\u200b\u200b\u200bfghij"))  # hidden characters do not count
    assert state(harness).lies["p2"].text == "abcdefghij"
    assert rejected(harness, "p3", lie("z" * 2001)) == "bad_action"  # beyond the wire limit


@pytest.mark.parametrize(
    "text",
    [
        "Zürich",
        "zurich",
        "ZÜRICH!",
        "the Zurich",
        "Zu\u0308rich",  # a combining diaeresis
        "Ｚｕｒｉｃｈ",  # fullwidth
        "Zür\u200bich",  # a hidden zero-width space
        "Zuerich",  # one letter too many
        "Zurihc",  # two letters swapped
        "Z u r i c h",
        "Züri",  # the alternate
        "zuri.",
    ],
)
def test_the_truth_is_not_a_lie(start: Start, text: str) -> None:
    harness = start()
    assert state(harness).card.truth == "Zürich"
    assert state(harness).card.alternates == ["Züri"]
    assert rejected(harness, "p1", lie(text)) == "lie_is_truth"


@pytest.mark.parametrize("text", ["Zug", "Zürich Airport", "Zurichsee Lake", "Züs"])
def test_near_the_truth_is_still_a_lie(start: Start, text: str) -> None:
    harness = start()
    harness.act("p1", lie(text))
    assert state(harness).lies["p1"].text == text


def test_family_mode_rejects_profane_lies(start: Start) -> None:
    assert rejected(start(family_mode=True), "p1", lie("shit happens")) == "lie_profane"
    relaxed = start()
    relaxed.act("p1", lie("shit happens"))
    assert state(relaxed).lies["p1"].text == "shit happens"


def test_family_mode_refuses_profane_names(lies: Cartridge) -> None:
    runtime: Runtime[Any] = Runtime(lies)
    table = runtime.new_table(seed=1, settings={"packs": ["test"], "family_mode": True}, now=0)
    with pytest.raises(Refused) as info:
        runtime.apply(table, PlayerJoined(player_id="p1", name="Shithead"), 1)
    assert info.value.code == "name_profane"
    relaxed = runtime.new_table(seed=1, settings={"packs": ["test"]}, now=0)
    runtime.apply(relaxed, PlayerJoined(player_id="p1", name="Shithead"), 1)


def test_a_lie_may_change_until_the_deadline(start: Start) -> None:
    harness = start()
    harness.act("p1", lie("Zug"))
    step = harness.act("p1", lie("Lugano"))
    assert [d.event for d in events_of(step, LieAccepted)] == [
        LieAccepted(text="Lugano", lie_for_me=False)
    ]
    harness.act("p1", LIE_FOR_ME)
    harness.act("p1", lie("Lugano"))
    assert state(harness).lies["p1"].text == "Lugano"
    assert len(state(harness).lies) == 1
    harness.fire_deadline()
    texts = [a.text for a in state(harness).answers]
    assert "Lugano" in texts
    assert "Zug" not in texts
    assert rejected(harness, "p1", lie("Chur")) == "wrong_phase"


def test_lie_for_me_takes_a_house_lie_nobody_else_has(start: Start) -> None:
    harness = start(players=4)
    step = harness.act("p1", LIE_FOR_ME)
    accepted = events_of(step, LieAccepted)
    assert len(accepted) == 1
    assert accepted[0].audience.players == ("p1",)
    assert accepted[0].event.lie_for_me
    harness.act("p2", LIE_FOR_ME)
    harness.act("p3", LIE_FOR_ME)
    current = state(harness)
    chosen = [current.lies[p].text for p in ("p1", "p2", "p3")]
    assert len(set(chosen)) == 3
    assert set(chosen) <= set(current.card.house_lies)
    assert all(current.lies[p].lie_for_me for p in ("p1", "p2", "p3"))
    harness.act("p4", lie("Lugano"))  # everyone is in: the guesses start
    answers = state(harness).answers
    assert len(answers) == 5
    halves = {a.text: a.half for a in answers if a.half}
    assert halves == {text: [pid] for text, pid in zip(chosen, ("p1", "p2", "p3"), strict=True)}


# -- the answers -------------------------------------------------------------------------------
def _normalised_unique(harness: Harness) -> None:
    from weirsoe_sdk import normalize_answer

    texts = [normalize_answer(a.text) for a in state(harness).answers]
    assert len(texts) == len(set(texts))
    ids = [a.id for a in state(harness).answers]
    assert len(ids) == len(set(ids))


def test_house_lies_fill_in_for_silent_players(start: Start) -> None:
    harness = start(players=4)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", lie("Chur"))
    harness.fire_deadline()
    answers = state(harness).answers
    assert len(answers) == 4 + 1
    house = [a for a in answers if a.house]
    assert len(house) == 2
    assert {a.text for a in house} <= set(state(harness).card.house_lies)
    assert sum(a.truth for a in answers) == 1
    _normalised_unique(harness)


def test_identical_lies_merge_into_one_answer(start: Start) -> None:
    harness = start(players=4)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", lie("lugano!"))
    harness.fire_deadline()
    answers = state(harness).answers
    assert len(answers) == 4  # truth, the merged lie and two house lies for p3 and p4
    merged = next(a for a in answers if a.authors)
    assert merged.authors == ["p1", "p2"]
    assert merged.text == "Lugano"  # the first author's spelling
    _normalised_unique(harness)


def test_a_lie_that_is_a_house_lie_is_not_offered_twice(start: Start) -> None:
    harness = start(players=4)
    harness.act("p1", lie("geneva"))
    harness.fire_deadline()
    assert len(state(harness).answers) == 5
    _normalised_unique(harness)


def test_nobody_lies_and_the_house_fills_every_seat(start: Start) -> None:
    harness = start(players=3)
    harness.fire_deadline()
    answers = state(harness).answers
    assert len(answers) == 4
    assert sum(a.house for a in answers) == 3


def test_each_player_is_told_which_answer_is_theirs(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", LIE_FOR_ME)
    step = harness.act("p3", lie("lugano"))
    started = {
        d.audience.players[0] if d.audience.kind == "players" else d.audience.kind: d.event
        for d in events_of(step, GuessStarted)
    }
    lugano = answer_id(harness, "Lugano")
    assert started["p1"].yours == lugano
    assert started["p3"].yours == lugano
    assert started["p2"].yours == answer_id(harness, state(harness).lies["p2"].text)
    assert started["host"].yours is None
    assert started["audience"].yours is None
    assert harness.view(Viewer("player", "p3"))["me"]["yours"] == lugano


# -- guessing ----------------------------------------------------------------------------------
def test_you_cannot_pick_your_own_lie(start: Start) -> None:
    harness = start(players=4)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", lie("LUGANO"))
    harness.act("p3", LIE_FOR_ME)
    harness.fire_deadline()
    lugano = answer_id(harness, "Lugano")
    assert rejected(harness, "p1", guess(lugano)) == "own_answer"
    assert rejected(harness, "p2", guess(lugano)) == "own_answer"  # merged: both wrote it
    mine = answer_id(harness, state(harness).lies["p3"].text)
    assert rejected(harness, "p3", guess(mine)) == "own_answer"
    harness.act("p4", guess(lugano))  # somebody else's lie is fine


def test_a_guess_is_final(start: Start) -> None:
    harness = start(players=3)
    harness.fire_deadline()
    truth = truth_id(harness)
    other = next(a.id for a in state(harness).answers if not a.truth)
    harness.act("p1", guess(other))
    assert rejected(harness, "p1", guess(truth)) == "already_guessed"
    assert rejected(harness, "p1", guess(other)) == "already_guessed"
    assert state(harness).guesses == {"p1": other}


def test_an_unknown_answer_is_rejected(start: Start) -> None:
    harness = start(players=3)
    harness.fire_deadline()
    assert rejected(harness, "p1", guess("a00000000")) == "unknown_answer"
    assert rejected(harness, "p1", react("nope")) == "unknown_answer"


# -- phases ------------------------------------------------------------------------------------
def test_actions_out_of_their_phase_are_wrong_phase(start: Start) -> None:
    harness = start(players=3)
    assert state(harness).phase == "lie"
    assert rejected(harness, "p1", guess("x")) == "wrong_phase"
    assert rejected(harness, "p1", react("x")) == "wrong_phase"

    harness.fire_deadline()
    assert state(harness).phase == "guess"
    assert rejected(harness, "p1", lie("Lugano")) == "wrong_phase"
    assert rejected(harness, "p1", LIE_FOR_ME) == "wrong_phase"

    truth = truth_id(harness)
    harness.fire_deadline()
    assert state(harness).phase == "reveal"
    assert rejected(harness, "p1", guess(truth)) == "wrong_phase"
    assert rejected(harness, "p1", lie("Lugano")) == "wrong_phase"
    harness.act("p1", react(truth))  # reactions stay open while the answers are revealed

    while state(harness).phase == "reveal":
        harness.fire_deadline()
    assert state(harness).phase == "scoreboard"
    assert rejected(harness, "p1", react(truth)) == "wrong_phase"
    assert rejected(harness, "p1", guess(truth)) == "wrong_phase"
    assert rejected(harness, "p1", lie("Lugano")) == "wrong_phase"


def test_malformed_actions_are_rejected(start: Start) -> None:
    harness = start()
    for junk in ({"type": "dance"}, {"text": "no type"}, {"type": "lie"}, {"type": "guess"}):
        assert rejected(harness, "p1", junk) == "bad_action"


def test_reactions_are_capped_per_phase(start: Start) -> None:
    harness = start(players=3, reaction_cap=2)
    harness.fire_deadline()
    target = truth_id(harness)
    harness.act("p1", react(target, "😂"))
    harness.act("p1", react(target, "🔥"))
    assert rejected(harness, "p1", react(target)) == "reaction_cap"
    assert harness.view(Viewer("player", "p1"))["me"]["reactions_left"] == 0
    harness.act("p2", react(target))  # the cap is per player
    assert rejected(harness, "p2", react(target, "💩")) == "bad_emoji"
    for pid in ("p1", "p2", "p3"):
        harness.act(pid, guess(target))
    assert state(harness).phase == "reveal"
    harness.act("p1", react(target))  # a new phase, a new allowance
    harness.act("p1", react(target))
    assert rejected(harness, "p1", react(target)) == "reaction_cap"


def test_reactions_count_towards_the_author(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", lie("Lugano"))
    harness.fire_deadline()
    lugano = answer_id(harness, "Lugano")
    harness.act("p2", react(lugano, "😂"))
    harness.act("p3", react(lugano, "😂"))
    harness.act("p1", react(lugano, "😂"))  # your own lie: allowed, but not counted
    assert state(harness).stats["p1"].reactions == {"😂": 2}


def test_the_phase_ends_at_once_when_everyone_has_acted(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", LIE_FOR_ME)
    assert state(harness).phase == "lie"
    step = harness.act("p3", lie("Chur"))
    assert state(harness).phase == "guess"
    assert len(events_of(step, GuessStarted)) == 2 + 3  # host, audience and each player
    deadline = step.table.deadline
    assert deadline is not None
    assert (deadline.key, deadline.at) == ("q0:guess", harness.clock.now + 20.0)

    truth = truth_id(harness)
    harness.act("p1", guess(truth))
    harness.act("p2", guess(truth))
    step = harness.act("p3", guess(truth))
    assert state(harness).phase == "reveal"
    reveal = events_of(step, RevealStep)
    assert [d.event.index for d in reveal] == [0]


def test_disconnected_players_are_not_waited_for(start: Start) -> None:
    harness = start(players=3)
    harness.send(PlayerLeft(player_id="p3"))
    harness.act("p1", lie("Lugano"))
    harness.act("p2", lie("Chur"))
    assert state(harness).phase == "guess"
    harness.act("p1", guess(answer_id(harness, "Chur")))
    harness.act("p2", guess(answer_id(harness, "Lugano")))
    assert state(harness).phase == "reveal"


def test_the_last_player_leaving_ends_the_phase(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", lie("Chur"))
    harness.send(PlayerLeft(player_id="p3"))
    assert state(harness).phase == "guess"
    assert len(state(harness).answers) == 4  # the absent player's seat gets a house lie
    harness.send(PlayerReconnected(player_id="p3"))
    harness.act("p3", guess(truth_id(harness)))  # and p3 may still guess


def test_when_everyone_has_gone_the_timer_still_runs(start: Start) -> None:
    harness = start(players=2)
    for pid in ("p1", "p2"):
        harness.send(PlayerLeft(player_id=pid))
    assert state(harness).phase == "lie"
    harness.fire_deadline()
    assert state(harness).phase == "guess"


def test_a_phase_ended_by_a_leave_while_paused_keeps_its_full_timer(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", lie("Lugano"))
    harness.act("p2", lie("Chur"))
    harness.clock.advance(30)
    harness.control("pause")
    assert harness.table.remaining == 15.0
    harness.send(PlayerLeft(player_id="p3"))
    assert state(harness).phase == "guess"
    assert (harness.table.paused_key, harness.table.remaining) == ("q0:guess", 20.0)
    harness.clock.advance(300)
    deadline = harness.control("resume").table.deadline
    assert deadline is not None
    assert (deadline.key, deadline.at) == ("q0:guess", harness.clock.now + 20.0)


# -- the shape of a game -----------------------------------------------------------------------
def test_five_questions_with_multipliers_1_1_2_2_3_by_default(start: Start) -> None:
    harness = start()
    cards = state(harness).cards
    assert [c.multiplier for c in cards] == [1, 1, 2, 2, 3]
    assert [c.round for c in cards] == [1, 1, 2, 2, 3]
    assert len({c.prompt_id for c in cards}) == 5
    while harness.table.status == "running":
        harness.fire_deadline()
    shown = [m.json() for m in harness.record.messages["host"] if m.type == "phase.question_shown"]
    assert [(s["question"], s["round"], s["multiplier"]) for s in shown] == [
        (1, 1, 1),
        (2, 1, 1),
        (3, 2, 2),
        (4, 2, 2),
        (5, 3, 3),
    ]
    assert {(s["questions"], s["rounds"]) for s in shown} == {(5, 3)}


@pytest.mark.parametrize(
    ("rounds", "per_round", "multipliers"),
    [(1, 3, [1]), (2, 3, [1, 1, 1, 2]), (4, 1, [1, 2, 3, 4])],
)
def test_the_last_round_has_one_question(
    start: Start, rounds: int, per_round: int, multipliers: list[int]
) -> None:
    harness = start(rounds=rounds, questions_per_round=per_round)
    assert [c.multiplier for c in state(harness).cards] == multipliers


def test_timers_and_extended_timers(start: Start) -> None:
    for extended, lie_time, guess_time in ((False, 45.0, 20.0), (True, 67.5, 30.0)):
        harness = start(extended_timers=extended)
        now = harness.clock.now
        assert harness.table.deadline is not None
        assert harness.table.deadline.at == now + lie_time
        harness.fire_deadline()
        assert harness.table.deadline is not None
        assert harness.table.deadline.at == harness.clock.now + guess_time
        harness.fire_deadline()
        assert harness.table.deadline is not None
        assert harness.table.deadline.at == harness.clock.now + 4.0  # one reveal step


PER_QUESTION = ["phase.question_shown", "phase.lie_started", "phase.guess_started"]


@pytest.mark.parametrize(("players", "seed"), [(2, 1), (5, 2), (8, 3)])
def test_the_event_sequence_of_a_whole_game(lies: Cartridge, players: int, seed: int) -> None:
    record = Harness(lies, players=players, seed=seed).play()
    assert record.table.status == "over"
    messages = [m for m in record.messages["host"] if m.type.startswith(("phase.", "reveal."))]
    position = 0
    for question in range(1, 6):
        kinds = [m.type for m in messages[position : position + 3]]
        assert kinds == PER_QUESTION, f"question {question}"
        answers = messages[position + 2].json()["answers"]
        position += 3
        steps = [m.json() for m in messages[position : position + len(answers)]]
        assert [s["type"] for s in steps] == ["reveal.step"] * len(answers)
        assert [s["index"] for s in steps] == list(range(len(answers)))
        assert {s["total"] for s in steps} == {len(answers)}
        assert [s["answer"]["truth"] for s in steps] == [False] * (len(answers) - 1) + [True]
        assert sorted(s["answer"]["id"] for s in steps) == sorted(a["id"] for a in answers)
        position += len(answers)
        kinds = [m.type for m in messages[position : position + 2]]
        assert kinds == ["phase.scores_calculated", "phase.scoreboard"]
        assert messages[position].json()["question"] == question
        assert messages[position + 1].json()["last"] == (question == 5)
        position += 2
    assert [m.type for m in messages[position:]] == ["phase.game_over"]


def test_players_get_their_own_guess_prompt(lies: Cartridge) -> None:
    record = Harness(lies, players=4, seed=9).play()
    for pid in record.players:
        kinds = record.types_for(pid)
        assert kinds.count("phase.guess_started") == 5
        assert kinds.count("phase.game_over") == 1
    assert record.types_for("audience").count("phase.guess_started") == 5
    assert "lie.accepted" not in record.types_for("host")
    assert "lie.accepted" not in record.types_for("audience")


# -- rankings and awards -----------------------------------------------------------------------
def _context(*ids: str) -> Context[Any]:
    seats = tuple(Seat(id=p, name=p.upper()) for p in ids)
    return Context(now=0, players=seats, settings=None, seed=0, version=0)


def _state(**stats: Stats) -> LiesState:
    return LiesState(phase="over", cards=[], stats=dict(stats))


def test_ranking_shares_ranks_on_equal_scores() -> None:
    current = _state()
    current.scores = {"p1": 500, "p2": 2000, "p3": 2000, "p4": 0}
    ranks = ranking(current, _context("p1", "p2", "p3", "p4"))
    assert [(r.player_id, r.rank, r.score) for r in ranks] == [
        ("p2", 1, 2000),
        ("p3", 1, 2000),
        ("p1", 3, 500),
        ("p4", 4, 0),
    ]
    assert ranks[0].name == "P2"


def test_awards_go_to_the_best_and_ties_share_them() -> None:
    current = _state(
        p1=Stats(fooled=3, truths=1, reactions={"😂": 2, "🔥": 1}),
        p2=Stats(fooled=3, truths=4, reactions={"😂": 2}),
        p3=Stats(fooled=0, truths=4, reactions={}),
    )
    awards = {a.key: a for a in awards_for(current)}
    assert awards["best_liar"].winners == ["p1", "p2"]
    assert awards["best_liar"].value == 3
    assert awards["truth_seeker"].winners == ["p2", "p3"]
    assert awards["truth_seeker"].value == 4
    assert awards["crowd_favourite"].winners == ["p1"]
    assert awards["crowd_favourite"].value == 3
    assert awards["comedian"].winners == ["p1", "p2"]
    assert awards["comedian"].emoji == "😂"
    assert awards["on_fire"].winners == ["p1"]
    assert "mind_blower" not in awards  # nobody earned it
    assert awards["best_liar"].emoji is None


def test_nobody_earns_an_award_in_a_silent_game() -> None:
    assert awards_for(_state(p1=Stats(), p2=Stats())) == []


def test_every_emoji_has_an_award() -> None:
    current = _state(p1=Stats(reactions=dict.fromkeys(EMOJI, 1)))
    keys = {a.key for a in awards_for(current) if a.emoji}
    assert len(keys) == len(EMOJI) == 6


def test_a_whole_game_hands_out_awards_that_match_the_stats(lies: Cartridge) -> None:
    record = Harness(lies, players=6, seed=4).play()
    results = record.results
    awards = {a["key"]: a for a in results["awards"]}
    final = record.table.state
    assert isinstance(final, LiesState)
    fooled = {p: s.fooled for p, s in final.stats.items()}
    best = max(fooled.values())
    assert awards["best_liar"]["value"] == best
    assert awards["best_liar"]["winners"] == [p for p, v in fooled.items() if v == best]
