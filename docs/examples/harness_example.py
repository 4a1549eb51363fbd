"""A whole cartridge on one screen, tested with the harness: the example from the reference.

"Highest unique": every player secretly picks a number from 1 to 10 before the timer ends; the
highest number nobody else picked wins a point. Run it with ``python harness_example.py``, or
collect it with pytest (``test_*`` functions below). ``docs/cartridges/reference.md`` walks
through it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

import msgspec
import pytest

from weirsoe_sdk import (
    Cartridge,
    CartridgeInfo,
    Context,
    Effect,
    Emit,
    Event,
    GameDriver,
    GameOver,
    InvalidAction,
    Outcome,
    Secret,
    SetDeadline,
    Viewer,
    to_players,
)
from weirsoe_sdk.testing import Harness


# -- settings, state, actions and events: plain msgspec data ------------------------------------
class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rounds: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    pick_seconds: Annotated[float, msgspec.Meta(ge=1, le=120)] = 15.0


class State(msgspec.Struct):
    round: int = 1
    picks: dict[str, int] = {}
    scores: dict[str, int] = {}


class Pick(msgspec.Struct, tag_field="type", tag="pick"):
    number: Annotated[int, msgspec.Meta(ge=1, le=10)]


class RoundStarted(Event, tag="highest.round_started", frozen=True):
    round: int
    deadline: float


class Picked(Event, tag="highest.picked", frozen=True):
    player_id: str  # that someone picked, never what


class YourPick(Event, tag="highest.your_pick", frozen=True):
    number: int


class RoundWon(Event, tag="highest.round_won", frozen=True):
    picks: dict[str, int]
    winner: str | None


# -- the rules: pure functions of (state, input, context) ----------------------------------------
class HighestUnique(GameDriver[State, Settings]):
    def setup(self, ctx: Context[Settings]) -> Outcome[State]:
        return self._start(State(scores=dict.fromkeys(ctx.player_ids, 0)), ctx)

    def _start(self, state: State, ctx: Context[Settings]) -> Outcome[State]:
        state.picks = {}
        at = ctx.now + ctx.settings.pick_seconds
        return Outcome(
            state,
            [
                Emit(RoundStarted(round=state.round, deadline=at)),
                SetDeadline(f"r{state.round}", at),
            ],
        )

    def phase(self, state: State) -> str:
        return "pick"

    def on_action(
        self, state: State, player_id: str, action: Any, ctx: Context[Settings]
    ) -> Outcome[State]:
        if player_id in state.picks:
            raise InvalidAction("you already picked", code="already_picked")
        state.picks[player_id] = action.number
        effects: list[Effect] = [
            Emit(Picked(player_id=player_id)),
            Emit(YourPick(number=action.number), to_players(player_id)),
        ]
        if ctx.connected_ids and all(p in state.picks for p in ctx.connected_ids):
            outcome = self.on_deadline(state, "", ctx)
            return Outcome(outcome.state, effects + outcome.effects)
        return Outcome(state, effects)

    def on_deadline(self, state: State, key: str, ctx: Context[Settings]) -> Outcome[State]:
        numbers = list(state.picks.values())
        unique = [n for n in numbers if numbers.count(n) == 1]
        winner = next((p for p, n in state.picks.items() if unique and n == max(unique)), None)
        if winner is not None:
            state.scores[winner] += 1
        done = Emit(RoundWon(picks=dict(state.picks), winner=winner))
        state.picks = {}  # revealed now, so no longer a secret
        if state.round >= ctx.settings.rounds:
            return Outcome(state, [done, GameOver({"scores": dict(state.scores)})])
        state.round += 1
        outcome = self._start(state, ctx)
        return Outcome(outcome.state, [done, *outcome.effects])

    def view(self, state: State, viewer: Viewer, ctx: Context[Settings]) -> dict[str, Any]:
        return {
            "round": state.round,
            "picked": sorted(state.picks),
            "scores": dict(state.scores),
            "mine": state.picks.get(viewer.player_id or ""),
        }

    def secrets(self, state: State, ctx: Context[Settings]) -> Iterable[Secret]:
        # The checker matches text, so a number two players picked belongs to both of them.
        owners: dict[int, set[str]] = {}
        for player, number in state.picks.items():
            owners.setdefault(number, set()).add(player)
        return [
            Secret(f'"number":{n}', frozenset(who), f"a pick of {n}") for n, who in owners.items()
        ]


class Bot:
    """Picks a random number once per round, from its own view only."""

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        return {"type": "pick", "number": rng.randint(1, 10)} if view["mine"] is None else None


CARTRIDGE = Cartridge(
    info=CartridgeInfo(
        slug="highest_unique", title="Highest Unique", version="1.0", min_players=2, max_players=8
    ),
    driver=HighestUnique(),
    settings_type=Settings,
    state_type=State,
    action_type=Pick,
    events=(RoundStarted, Picked, YourPick, RoundWon),
    bot=Bot(),
)


# -- tests: whole games in milliseconds, with a fake clock and the leak checker -----------------
def test_bots_play_a_whole_game_without_leaking() -> None:
    record = Harness(CARTRIDGE, players=5, seed=7, settings={"rounds": 4}).play()
    assert record.table.status == "over"
    assert sum(record.results["scores"].values()) <= 4
    # Every player was told its own pick privately, once per round.
    assert record.types_for("p1").count("highest.your_pick") == 4
    assert "highest.your_pick" not in record.types_for("host")


def test_a_hand_played_round() -> None:
    harness = Harness(CARTRIDGE, players=3, seed=1, settings={"rounds": 1})
    harness.join_all()
    harness.control("play")
    harness.act("p1", {"type": "pick", "number": 9})
    harness.act("p2", {"type": "pick", "number": 9})
    with pytest.raises(InvalidAction) as refused:
        harness.act("p1", {"type": "pick", "number": 3})
    assert refused.value.code == "already_picked"
    harness.clock.advance(5)
    harness.control("pause")  # the timer is frozen with 10 s left ...
    assert harness.table.remaining == 10.0
    harness.control("resume")  # ... and restarts with 10 s
    harness.fire_deadline()  # p3 never picked: the clock jumps to the deadline and fires it
    assert harness.table.results == {"scores": {"p1": 0, "p2": 0, "p3": 0}}  # 9 was not unique


if __name__ == "__main__":
    test_bots_play_a_whole_game_without_leaking()
    test_a_hand_played_round()
    record = Harness(CARTRIDGE, players=4, seed=42).play()
    print(f"{record.cartridge}: {record.table.status} after {record.events} events")
    print("scores:", record.results["scores"])
