"""The tally contract: crowd votes counted outside the driver, delivered once as one input."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from weirsoe_sdk import (
    AudienceTally,
    Cartridge,
    CartridgeError,
    CartridgeInfo,
    Context,
    DeadlineReached,
    Emit,
    Event,
    GameDriver,
    GameOver,
    InvalidAction,
    Outcome,
    SetDeadline,
    Tally,
    TallyCountsNeeded,
    event_name,
)
from weirsoe_sdk.testing import Harness


class Settings(msgspec.Struct, kw_only=True):
    reactions: int = 3


class State(msgspec.Struct, kw_only=True):
    phase: str = "vote"
    options: list[str] = msgspec.field(default_factory=lambda: ["red", "blue", "green"])
    crowd: dict[str, int] = msgspec.field(default_factory=dict)
    cheers: dict[str, int] = msgspec.field(default_factory=dict)
    seen: list[str] = msgspec.field(default_factory=list)


class CrowdSaid(Event, tag="crowd.said", frozen=True):
    counts: dict[str, int]


class Crowd(GameDriver[State, Settings]):
    def setup(self, ctx: Context[Settings]) -> Outcome[State]:
        return Outcome(State(), [SetDeadline("vote", ctx.now + 10)])

    def phase(self, state: State) -> str:
        return state.phase

    def view(self, state: State, viewer: Any, ctx: Context[Settings]) -> Any:
        return {"phase": state.phase, "options": state.options}

    def on_tally(
        self, state: State, name: str, counts: dict[str, int], ctx: Context[Settings]
    ) -> Outcome[State]:
        state.seen.append(f"{name}@{state.phase}")
        if name == "colour":
            state.crowd = counts
            return Outcome(state, [Emit(CrowdSaid(counts=counts))])
        state.cheers = counts
        return Outcome(state)

    def on_deadline(self, state: State, key: str, ctx: Context[Settings]) -> Outcome[State]:
        if state.phase == "vote":
            state.phase = "cheer"
            return Outcome(state, [SetDeadline("cheer", ctx.now + 5)])
        state.phase = "done"
        return Outcome(state, [GameOver({"crowd": state.crowd, "cheers": state.cheers})])


TALLIES = (
    Tally(name="colour", phases=frozenset({"vote"}), choices=lambda s: s.options),
    Tally(
        name="cheer",
        phases=frozenset({"vote", "cheer"}),
        choices=lambda s: ["yay", "boo"],
        votes=lambda settings: settings.reactions,
        live=True,
    ),
)

CARTRIDGE = Cartridge(
    info=CartridgeInfo(slug="crowd", title="Crowd", version="1", min_players=1, max_players=4),
    driver=Crowd(),
    settings_type=Settings,
    state_type=State,
    action_type=dict[str, Any],
    events=(CrowdSaid,),
    tallies=TALLIES,
)


def started() -> Harness:
    h = Harness(CARTRIDGE, players=1, seed=3)
    h.join_all()
    h.control("play")
    return h


def test_a_tally_opens_with_its_phase_and_choices_from_the_state() -> None:
    h = started()
    tallies = h.table.tallies
    assert set(tallies) == {"colour", "cheer"}
    assert tallies["colour"].choices == ["red", "blue", "green"]
    assert (tallies["colour"].cap, tallies["colour"].live) == (1, False)
    assert (tallies["cheer"].cap, tallies["cheer"].live) == (3, True)


def test_one_vote_per_member_a_revote_replaces_and_counts_reach_the_driver_once() -> None:
    h = started()
    for i in range(10):
        h.vote(f"m{i}", "colour", "red")
    for i in range(4):
        h.vote(f"m{i}", "colour", "blue")  # re-vote: replaces
    assert h.vote("m9", "colour", "red") is False  # the same vote again changes nothing
    step = h.fire_deadline()
    assert step is not None
    assert h.table.state.crowd == {"red": 6, "blue": 4, "green": 0}
    # Each tally delivered once, while the state was still in its phase.
    assert h.table.state.seen == ["colour@vote", "cheer@vote"]
    assert "crowd.said" in [event_name(type(d.event)) for d in step.deliveries]
    assert "colour" not in h.table.tallies
    with pytest.raises(InvalidAction) as info:
        h.vote("m1", "colour", "red")
    assert info.value.code == "tally_closed"


def test_bad_votes_have_stable_codes_and_change_nothing() -> None:
    h = started()
    h.vote("m1", "colour", "green")
    for name, choice, code in [
        ("colour", "purple", "unknown_choice"),
        ("nosuch", "red", "tally_closed"),
    ]:
        with pytest.raises(InvalidAction) as info:
            h.vote("m1", name, choice)
        assert info.value.code == code
    for _ in range(3):
        h.vote("m1", "cheer", "yay")
    with pytest.raises(InvalidAction) as info:
        h.vote("m1", "cheer", "boo")
    assert info.value.code == "vote_cap"
    assert h.tally_counts()[h.table.tallies["colour"].id] == {"red": 0, "blue": 0, "green": 1}
    assert h.tally_counts()[h.table.tallies["cheer"].id] == {"yay": 3, "boo": 0}


def test_a_new_opening_of_a_tally_starts_from_zero() -> None:
    h = started()
    h.vote("m1", "cheer", "yay")
    first = h.table.tallies["cheer"].id
    h.fire_deadline()  # vote -> cheer: a new phase, so a new opening of "cheer"
    second = h.table.tallies["cheer"].id
    assert second != first
    assert h.table.state.cheers == {"yay": 1, "boo": 0}
    h.vote("m1", "cheer", "boo")
    h.fire_deadline()
    assert h.table.results == {
        "crowd": {"red": 0, "blue": 0, "green": 0},
        "cheers": {"yay": 0, "boo": 1},
    }


def test_the_runtime_asks_for_counts_and_a_replay_from_inputs_is_the_same_game() -> None:
    h = started()
    h.vote("a", "colour", "blue")
    table = h.table
    deadline = table.deadline
    assert deadline is not None
    fire = DeadlineReached(key=deadline.key, serial=deadline.serial)
    with pytest.raises(TallyCountsNeeded) as info:
        h.runtime.apply(h.runtime.decode(h.encoded), fire, h.clock.now + 10)
    assert {t.name for t in info.value.tallies} == {"colour", "cheer"}

    # Live: the counts come with the input that ends the phase.
    counts = h.tally_counts()
    live = h.runtime.apply(h.runtime.decode(h.encoded), fire, h.clock.now + 10, counts=counts)
    # Replay: the same counts as explicit inputs first, then the same input.
    replay = h.runtime.decode(h.encoded)
    for tally in list(replay.tallies.values()):
        inp = AudienceTally(tally_id=tally.id, name=tally.name, counts=counts[tally.id])
        replay = h.runtime.apply(replay, inp, h.clock.now + 10).table
    replayed = h.runtime.apply(replay, fire, h.clock.now + 10)
    assert live.table.version == replayed.table.version == table.version + 3
    assert msgspec.to_builtins(live.table.state) == msgspec.to_builtins(replayed.table.state)
    assert {t.name for t in live.closed} == {"colour", "cheer"}
    assert [t.name for t in live.opened] == ["cheer"]


def test_a_closing_input_replays_from_the_stored_table_when_given() -> None:
    h = started()
    h.vote("a", "colour", "blue")
    h.vote("b", "cheer", "yay")
    deadline = h.table.deadline
    assert deadline is not None
    fire = DeadlineReached(key=deadline.key, serial=deadline.serial)
    counts = h.tally_counts()
    fresh = h.runtime.apply(h.table, fire, h.clock.now + 10, counts=counts)
    # The caller's stored bytes stand in for encoding the table before the input.
    stored = h.runtime.apply(h.table, fire, h.clock.now + 10, counts=counts, stored=h.encoded)
    assert h.runtime.encode(stored.table) == h.runtime.encode(fresh.table)
    assert [d.event for d in stored.deliveries] == [d.event for d in fresh.deliveries]
    assert stored.table.state.crowd == {"red": 0, "blue": 1, "green": 0}


def test_a_stale_tally_input_changes_nothing() -> None:
    h = started()
    stale = AudienceTally(tally_id="colour@999", name="colour", counts={"red": 5})
    step = h.send(stale)
    assert not step.changed


def test_tally_declarations_are_checked() -> None:
    with pytest.raises(CartridgeError):
        Tally(name="Bad Name", phases=frozenset({"x"}), choices=lambda s: [])
    with pytest.raises(CartridgeError):
        Tally(name="ok", phases=frozenset(), choices=lambda s: [])
    bad = Tally(name="ok", phases=frozenset({"x"}), choices=lambda s: ["x" * 65])
    with pytest.raises(CartridgeError):
        bad.open_choices(None)


def test_exit_drops_open_tallies_without_counts() -> None:
    h = started()
    h.vote("m", "colour", "red")
    step = h.control("exit")
    assert h.table.tallies == {}
    assert {t.name for t in step.closed} == {"colour", "cheer"}
