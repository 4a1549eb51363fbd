"""Phases as data: the runtime answers ``wrong_phase``/``bad_action`` from the phase table, a
phase ends when every connected player has acted (or its own condition holds), and its deadline
runs what the table says."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import pytest

from weirsoe_sdk import (
    ALL_ACTED,
    EXTENDED_TIMER_FACTOR,
    Cartridge,
    CartridgeError,
    CartridgeInfo,
    Context,
    Emit,
    Event,
    GameOver,
    InvalidAction,
    Move,
    Outcome,
    Phase,
    PhasedDriver,
    PlayerLeft,
    Viewer,
)
from weirsoe_sdk.testing import Harness


class Settings(msgspec.Struct, kw_only=True):
    pick_seconds: float = 10.0
    extended_timers: bool = False
    target: int = 0  # >0: the "sum" phase ends as soon as the picks add up to this


class Pick(msgspec.Struct, tag_field="type", tag="pick", frozen=True):
    number: int


class Shout(msgspec.Struct, tag_field="type", tag="shout", frozen=True):
    pass


class Picked(Event, tag="phased.picked", frozen=True):
    player_id: str


class State(msgspec.Struct):
    phase: str = "pick"
    picks: dict[str, int] = {}
    shouts: int = 0
    rounds: int = 0


class Picker(PhasedDriver[State, Settings]):
    def __init__(self) -> None:
        self.phases = {
            "pick": Phase(
                moves={"pick": Move(Pick, self._pick)},
                timer=lambda s: s.pick_seconds,
                extendable=True,
                end_if=ALL_ACTED,
                acted=lambda state: state.picks,
                on_deadline=self._to_shout,
            ),
            "shout": Phase(
                moves={"shout": Move(Shout, self._shout)},
                timer=lambda s: 5.0,
                end_if=lambda state, ctx: state.shouts >= 2,
                on_deadline=self._over,
            ),
        }

    def setup(self, ctx: Context[Settings]) -> Outcome[State]:
        _, timer = self.deadline("pick", "pick", ctx)
        return Outcome(State(), [timer])

    def phase(self, state: State) -> str:
        return state.phase

    def view(self, state: State, viewer: Viewer, ctx: Context[Settings]) -> dict[str, Any]:
        return {"phase": state.phase, "picked": viewer.player_id in state.picks}

    def _pick(self, state: State, pid: str, action: Pick, ctx: Context[Settings]) -> Outcome[State]:
        if pid in state.picks:
            raise InvalidAction("once", code="already_picked")
        state.picks[pid] = action.number
        return Outcome(state, [Emit(Picked(player_id=pid))])

    def _to_shout(self, state: State, ctx: Context[Settings]) -> Outcome[State]:
        state.phase = "shout"
        _, timer = self.deadline("shout", "shout", ctx)
        return Outcome(state, [timer])

    def _shout(
        self, state: State, pid: str, action: Shout, ctx: Context[Settings]
    ) -> Outcome[State]:
        state.shouts += 1
        return Outcome(state)

    def _over(self, state: State, ctx: Context[Settings]) -> Outcome[State]:
        state.phase = "over"
        return Outcome(state, [GameOver(dict(state.picks))])


class PickBot:
    phases = frozenset({"pick"})

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        return None if view["picked"] else {"type": "pick", "number": rng.randint(1, 9)}


def cartridge() -> Cartridge:
    return Cartridge(
        info=CartridgeInfo(slug="phased", title="P", version="0", min_players=1, max_players=8),
        driver=Picker(),
        settings_type=Settings,
        state_type=State,
        events=(Picked,),
        bot=PickBot(),
    )


def started(players: int = 3, **settings: Any) -> Harness:
    harness = Harness(cartridge(), players=players, seed=1, settings=settings)
    harness.join_all()
    harness.control("play")
    return harness


def phase(harness: Harness) -> str:
    return str(harness.table.state.phase)


def code(harness: Harness, player: str, action: dict[str, Any]) -> str:
    before = harness.table.version
    with pytest.raises(InvalidAction) as info:
        harness.act(player, action)
    assert harness.table.version == before  # nothing changed
    return info.value.code


def test_the_action_type_is_the_union_of_the_phase_table() -> None:
    assert msgspec.convert({"type": "shout"}, cartridge().action_type) == Shout()
    assert msgspec.convert({"type": "pick", "number": 2}, cartridge().action_type) == Pick(2)


def test_the_runtime_answers_wrong_phase_and_bad_action() -> None:
    harness = started()
    assert code(harness, "p1", {"type": "shout"}) == "wrong_phase"
    assert code(harness, "p1", {"type": "dance"}) == "bad_action"
    assert code(harness, "p1", {"type": "pick", "number": "x"}) == "bad_action"
    harness.act("p1", {"type": "pick", "number": 3})
    assert code(harness, "p1", {"type": "pick", "number": 4}) == "already_picked"


def test_the_wrong_phase_message_names_the_right_phase() -> None:
    harness = started()
    with pytest.raises(InvalidAction, match="shout is only allowed in the shout phase"):
        harness.act("p1", {"type": "shout"})


def test_a_phase_ends_when_every_connected_player_has_acted() -> None:
    harness = started(players=3)
    harness.act("p1", {"type": "pick", "number": 1})
    harness.act("p2", {"type": "pick", "number": 2})
    assert phase(harness) == "pick"
    harness.send(PlayerLeft(player_id="p3"))  # the last one it waited for leaves
    assert phase(harness) == "shout"
    assert harness.table.deadline is not None
    assert harness.table.deadline.key == "shout"


def test_a_custom_end_condition_and_the_deadline_step() -> None:
    harness = started(players=2)
    harness.fire_deadline()  # nobody picked: the deadline moves on
    assert phase(harness) == "shout"
    harness.act("p1", {"type": "shout"})
    assert harness.table.status == "running"
    harness.act("p2", {"type": "shout"})  # shouts >= 2
    assert harness.table.status == "over"


def test_with_nobody_connected_only_the_deadline_ends_a_phase() -> None:
    harness = started(players=2)
    harness.send(PlayerLeft(player_id="p1"))
    harness.send(PlayerLeft(player_id="p2"))
    assert phase(harness) == "pick"
    harness.fire_deadline()
    assert phase(harness) == "shout"


@pytest.mark.parametrize("extended", [False, True])
def test_the_timer_comes_from_the_settings_and_extends(extended: bool) -> None:
    harness = started(pick_seconds=8.0, extended_timers=extended)
    deadline = harness.table.deadline
    assert deadline is not None
    factor = EXTENDED_TIMER_FACTOR if extended else 1.0
    assert deadline.at == pytest.approx(harness.clock.now + 8.0 * factor)


def test_bots_play_a_phased_game_to_the_end() -> None:
    record = Harness(cartridge(), players=4, seed=5).play()
    assert record.table.status == "over"
    assert sorted(record.results) == ["p1", "p2", "p3", "p4"]


def test_a_move_whose_name_is_not_its_tag_is_refused() -> None:
    with pytest.raises(CartridgeError, match="tag"):
        Phase(moves={"choose": Move(Pick, lambda *a: Outcome(State()))})
    with pytest.raises(CartridgeError, match="acted"):
        Phase(end_if=ALL_ACTED)
