"""Rock-paper-scissors with a timer, in one screen: the smallest complete cartridge."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal

import msgspec

from weirsoe_sdk import (
    Cartridge,
    CartridgeInfo,
    Context,
    Emit,
    Event,
    GameDriver,
    GameOver,
    InvalidAction,
    Outcome,
    Secret,
    SetDeadline,
    Viewer,
    ViewTypes,
    hookimpl,
)

__version__ = "0.1.0"

Move = Literal["rock", "paper", "scissors"]
BEATS = {"rock": "scissors", "paper": "rock", "scissors": "paper"}


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rounds: Annotated[int, msgspec.Meta(ge=1, le=9)] = 3
    throw_seconds: Annotated[float, msgspec.Meta(ge=0.2, le=120)] = 10.0


class State(msgspec.Struct):
    round: int = 1
    throws: dict[str, str] = {}
    scores: dict[str, int] = {}


class Throw(msgspec.Struct, tag_field="type", tag="throw", forbid_unknown_fields=True):
    """Your move this round (once a round)."""

    move: Move


class RpsView(msgspec.Struct, forbid_unknown_fields=True):
    """Every role's view; ``mine`` is a player's own throw this round (null for others)."""

    round: int
    thrown: list[str]
    scores: dict[str, int]
    mine: Move | None


class RoundStarted(Event, tag="rps.round_started", frozen=True):
    round: int
    deadline: float | None


class Thrown(Event, tag="rps.thrown", frozen=True):
    player_id: str


class RoundResult(Event, tag="rps.round_result", frozen=True):
    round: int
    throws: dict[str, str]
    scores: dict[str, int]


class Finished(Event, tag="rps.finished", frozen=True):
    scores: dict[str, int]


class Driver(GameDriver[State, Settings]):
    def setup(self, ctx: Context[Settings]) -> Outcome[State]:
        return self._start(State(scores=dict.fromkeys(ctx.player_ids, 0)), ctx)

    def _start(self, state: State, ctx: Context[Settings]) -> Outcome[State]:
        at = ctx.now + ctx.settings.throw_seconds
        state.throws = {}
        return Outcome(
            state,
            [
                Emit(RoundStarted(round=state.round, deadline=at)),
                SetDeadline(f"round{state.round}", at),
            ],
        )

    def phase(self, state: State) -> str:
        return "throw"

    def on_action(
        self, state: State, player_id: str, action: Any, ctx: Context[Settings]
    ) -> Outcome[State]:
        if player_id in state.throws:
            raise InvalidAction("you already threw", code="already_thrown")
        state.throws[player_id] = action.move
        if ctx.connected_ids and all(p in state.throws for p in ctx.connected_ids):
            outcome = self.on_deadline(state, "", ctx)
            return Outcome(outcome.state, [Emit(Thrown(player_id=player_id)), *outcome.effects])
        return Outcome(state, [Emit(Thrown(player_id=player_id))])

    def on_deadline(self, state: State, key: str, ctx: Context[Settings]) -> Outcome[State]:
        for p, move in state.throws.items():
            state.scores[p] += sum(
                1 for q, m in state.throws.items() if q != p and BEATS[move] == m
            )
        result = Emit(
            RoundResult(round=state.round, throws=dict(state.throws), scores=dict(state.scores))
        )
        state.throws = {}  # revealed now: no longer secret
        if state.round >= ctx.settings.rounds:
            return Outcome(
                state,
                [
                    result,
                    Emit(Finished(scores=dict(state.scores))),
                    GameOver({"scores": state.scores}),
                ],
            )
        state.round += 1
        outcome = self._start(state, ctx)
        return Outcome(outcome.state, [result, *outcome.effects])

    def view(self, state: State, viewer: Viewer, ctx: Context[Settings]) -> dict[str, Any]:
        mine = state.throws.get(viewer.player_id or "")
        return {
            "round": state.round,
            "thrown": sorted(state.throws),
            "scores": state.scores,
            "mine": mine,
        }

    def secrets(self, state: State, ctx: Context[Settings]) -> Iterable[Secret]:
        return [Secret(f'"{p}":"{m}"', frozenset({p}), "a throw") for p, m in state.throws.items()]


class Bot:
    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        if view["mine"] is None:
            return {"type": "throw", "move": rng.choice(list(BEATS))}
        return None


@hookimpl
def weirsoe_register_cartridges(config: dict[str, Any]) -> list[Cartridge]:
    return [
        Cartridge(
            info=CartridgeInfo(
                slug="rps",
                title="Rock Paper Scissors",
                version=__version__,
                min_players=2,
                max_players=4,
            ),
            driver=Driver(),
            settings_type=Settings,
            state_type=State,
            action_type=Throw,
            events=(RoundStarted, Thrown, RoundResult, Finished),
            bot=Bot(),
            view_types=ViewTypes(host=RpsView, player=RpsView, audience=RpsView),
            errors={"already_thrown": "You have thrown this round."},
        )
    ]


@hookimpl
def weirsoe_register_preset_models() -> list[Any]:
    from .models import PRESET_MODEL

    return [PRESET_MODEL]
