"""Rules the published contract states: the view's keys, deadlines while paused, the
lie-for-me answer and its penalty."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from weirsoe_lies.contract import LiesPlayerView, LiesView
from weirsoe_lies.events import GuessStarted, RevealStep
from weirsoe_lies.state import LiesState
from weirsoe_sdk import PlayerLeft, Viewer
from weirsoe_sdk.testing import Harness

Start = Callable[..., Harness]


def state(harness: Harness) -> LiesState:
    value = harness.table.state
    assert isinstance(value, LiesState)
    return value


def events(step: Any, kind: type) -> list[Any]:
    return [d.event for d in step.deliveries if isinstance(d.event, kind)]


def test_me_has_rank_and_yours_from_the_first_view_on(start: Start) -> None:
    harness = start(players=3)
    me = harness.view(Viewer("player", "p1"))["me"]
    assert me["rank"] is None  # no scoreboard yet: null, not missing
    assert me["yours"] is None
    harness.act("p1", {"type": "lie", "text": "Lugano"})
    harness.fire_deadline()
    mine = next(a.id for a in state(harness).answers if a.text == "Lugano")
    assert harness.view(Viewer("player", "p1"))["me"]["yours"] == mine
    # Somebody without a lie: the key is there, null, as in phase.guess_started.
    assert harness.view(Viewer("player", "p3"))["me"]["yours"] is None


def test_the_guess_prompt_and_the_snapshot_agree_on_yours(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", {"type": "lie", "text": "Lugano"})
    step = harness.fire_deadline()
    by_player = {
        d.audience.players[0]: d.event
        for d in step.deliveries
        if isinstance(d.event, GuessStarted) and d.audience.kind == "players"
    }
    for pid, event in by_player.items():
        assert harness.view(Viewer("player", pid))["me"]["yours"] == event.yours


def test_views_convert_into_their_declared_types(start: Start) -> None:
    harness = start(players=3)
    for _ in range(40):
        msgspec.convert(harness.view(Viewer("host")), LiesView)
        msgspec.convert(harness.view(Viewer("audience")), LiesView)
        msgspec.convert(harness.view(Viewer("player", "p2")), LiesPlayerView)
        if harness.table.status != "running" or harness.fire_deadline() is None:
            break
    assert harness.table.status == "over"


def test_events_sent_while_paused_carry_no_deadline(start: Start) -> None:
    harness = start(players=3)
    harness.act("p1", {"type": "lie", "text": "Lugano"})
    harness.act("p2", {"type": "lie", "text": "Chur"})
    harness.control("pause")
    step = harness.send(PlayerLeft(player_id="p3"))  # everyone left has a lie: guesses open
    started = events(step, GuessStarted)
    assert started
    assert all(e.deadline is None for e in started)  # no timer runs while paused
    resumed = harness.control("resume")
    assert resumed.table.deadline is not None
    truth = next(a.id for a in state(harness).answers if a.truth)
    harness.act("p1", {"type": "guess", "answer_id": truth})
    harness.control("pause")
    step = harness.send(PlayerLeft(player_id="p2"))  # everyone left has guessed: reveal
    (reveal,) = events(step, RevealStep)
    assert reveal.deadline is None
    harness.control("resume")
    step = harness.fire_deadline()
    assert step is not None
    assert all(e.deadline is not None for e in events(step, RevealStep))  # running again


def test_picking_a_lie_for_me_costs_no_house_penalty(start: Start) -> None:
    harness = start(players=3, house_lie_penalty=500)
    harness.act("p1", {"type": "lie_for_me"})
    harness.act("p2", {"type": "lie", "text": "Lugano"})
    harness.act("p3", {"type": "lie", "text": "Chur"})
    given = state(harness)
    for_me = next(a for a in given.answers if "p1" in a.authors)
    assert not for_me.house
    harness.act("p2", {"type": "guess", "answer_id": for_me.id})
    while harness.table.status == "running" and state(harness).phase in ("guess", "reveal"):
        harness.fire_deadline()
    assert state(harness).scores.get("p2", 0) == 0  # no house-lie penalty (it would be -500)
    assert state(harness).scores.get("p1", 0) > 0  # p1 earned the half points
