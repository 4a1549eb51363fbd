"""The runtime's one transition function: versions, lobby, pause, deadlines, duplicates, exit.

These use the tiny rock-paper-scissors test cartridge (``tests/cartridges/rps``), so they test
the SDK and not any one game's rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from weirsoe_sdk import (
    Cartridge,
    DeadlineReached,
    Discovery,
    HostControl,
    InvalidAction,
    PlayerAction,
    PlayerJoined,
    PlayerLeft,
    PlayerReconnected,
    Refused,
    Runtime,
    SessionClosed,
    SessionFinished,
    SessionNewGame,
    SessionPaused,
    SessionResumed,
    Viewer,
    WeirsoeError,
    _runtime,
)
from weirsoe_sdk.testing import Harness

# The test-only rps cartridge (weirsoe.test_cartridges) loads only where this is set.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")

ROCK = {"type": "throw", "move": "rock"}


@pytest.fixture
def rps(weirsoe_cartridges: Discovery) -> Cartridge:
    return weirsoe_cartridges.get("rps")


def started(rps: Cartridge, players: int = 3, **settings: Any) -> Harness:
    harness = Harness(rps, players=players, seed=3, settings=settings or None)
    harness.join_all()
    harness.control("play")
    return harness


def test_every_accepted_transition_adds_exactly_one_to_the_version(rps: Cartridge) -> None:
    runtime: Runtime[Any] = Runtime(rps)
    table = runtime.new_table(seed=1, now=100.0)
    assert table.version == 0
    inputs = [
        PlayerJoined(player_id="p1", name="Ann"),
        PlayerReconnected(player_id="p1"),
        PlayerJoined(player_id="p2", name="Bob"),
        PlayerReconnected(player_id="p2"),
        PlayerJoined(player_id="p3", name="Cy"),
        HostControl(action="play"),
        PlayerAction(player_id="p1", action=ROCK),
        PlayerLeft(player_id="p2"),
        HostControl(action="pause"),
        HostControl(action="resume"),
        HostControl(action="exit"),
    ]
    for expected, inp in enumerate(inputs, 1):
        step = runtime.apply(table, inp, 100.0 + expected)
        assert step.changed, inp
        assert step.table.version == expected, inp
        assert step.table.updated_at == 100.0 + expected
    assert runtime.decode(runtime.encode(table)) == table


def test_a_rejected_input_changes_nothing(rps: Cartridge) -> None:
    harness = started(rps)
    harness.act("p1", ROCK)
    version, before = harness.table.version, harness.encoded
    view = harness.view(Viewer("player", "p1"))
    rejected: list[tuple[Callable[[], object], type[WeirsoeError], str]] = [
        (lambda: harness.act("p1", ROCK), InvalidAction, "already_thrown"),  # by the driver
        (
            lambda: harness.act("p2", {"type": "throw", "move": "lizard"}),
            InvalidAction,
            "bad_action",
        ),
        (lambda: harness.act("p2", {"type": "dance"}), InvalidAction, "bad_action"),
        (lambda: harness.act("nobody", ROCK), InvalidAction, "not_a_player"),
        (lambda: harness.control("play"), Refused, "game_started"),
        (lambda: harness.control("resume"), Refused, "not_paused"),
        (lambda: harness.send(HostControl(action="skip")), Refused, "bad_control"),  # type: ignore[arg-type]
    ]
    for attempt, error, code in rejected:
        with pytest.raises(error) as info:
            attempt()
        assert info.value.code == code
        assert harness.encoded == before
        assert harness.table.version == version
        assert harness.view(Viewer("player", "p1")) == view
    # The next accepted input is one version on, not one per rejected attempt.
    assert harness.act("p2", ROCK).table.version == version + 1


def test_an_input_that_changes_nothing_keeps_the_version(rps: Cartridge) -> None:
    harness = started(rps)
    before = harness.encoded
    for inp in (
        PlayerLeft(player_id="nobody"),
        PlayerReconnected(player_id="p1"),  # already connected
    ):
        step = harness.send(inp)
        assert not step.changed
        assert not step.deliveries
        assert harness.encoded == before


def test_pause_freezes_the_remaining_time_and_resume_restores_it(rps: Cartridge) -> None:
    harness = started(rps, throw_seconds=10.0)
    table = harness.table
    assert table.deadline is not None
    assert table.deadline.at == harness.clock.now + 10.0
    key = table.deadline.key

    harness.clock.advance(3.25)
    step = harness.control("pause")
    assert step.table.status == "paused"
    assert step.table.deadline is None
    assert step.table.remaining == 6.75
    assert [d.event for d in step.deliveries] == [SessionPaused(remaining=6.75)]
    snapshot = harness.runtime.snapshot(step.table, Viewer("host"), harness.clock.now, "ROOM")
    assert snapshot.status == "paused"
    assert snapshot.remaining == 6.75

    harness.clock.advance(500.0)  # nothing can fire while paused
    assert harness.fire_deadline() is None
    with pytest.raises(InvalidAction) as info:
        harness.act("p1", ROCK)
    assert info.value.code == "paused"

    step = harness.control("resume")
    deadline = step.table.deadline
    assert deadline is not None
    assert deadline.key == key
    assert deadline.at == harness.clock.now + 6.75
    assert deadline.serial == step.table.version
    assert step.table.remaining is None
    assert step.table.status == "running"
    assert [d.event for d in step.deliveries] == [SessionResumed(deadline=deadline.at)]


def test_a_stale_deadline_is_a_no_op(rps: Cartridge) -> None:
    harness = started(rps)
    first = harness.table.deadline
    assert first is not None
    harness.control("pause")
    harness.control("resume")  # the same deadline, rescheduled under a new serial
    current = harness.table.deadline
    assert current is not None
    assert current.serial != first.serial
    before = harness.encoded
    for stale in (
        DeadlineReached(key=first.key, serial=first.serial),  # the old serial
        DeadlineReached(key="round9", serial=current.serial),  # the wrong key
    ):
        step = harness.send(stale)
        assert not step.changed
        assert harness.encoded == before

    fired = harness.fire_deadline()
    assert fired is not None
    assert fired.changed
    assert fired.table.state is not None
    assert fired.table.state.round == 2
    # The same timer delivered twice (say, by two workers) fires once.
    after = harness.encoded
    assert not harness.send(DeadlineReached(key=current.key, serial=current.serial)).changed
    assert harness.encoded == after


def test_a_duplicate_action_id_is_applied_once(rps: Cartridge) -> None:
    harness = started(rps)
    assert harness.act("p1", ROCK, id="m1").changed
    before = harness.encoded
    again = harness.act("p1", ROCK, id="m1")  # would be "already_thrown" if it were applied
    assert again.duplicate
    assert not again.changed
    assert not again.deliveries
    assert harness.encoded == before
    # Ids are per player: another player may use the same id.
    assert harness.act("p2", ROCK, id="m1").changed


def test_play_needs_the_minimum_number_of_players(rps: Cartridge) -> None:
    harness = Harness(rps, players=1)
    harness.join_all()
    with pytest.raises(Refused) as info:
        harness.control("play")
    assert info.value.code == "not_enough_players"
    assert harness.table.status == "lobby"


def test_actions_before_play_are_refused(rps: Cartridge) -> None:
    harness = Harness(rps, players=2)
    harness.join_all()
    with pytest.raises(InvalidAction) as info:
        harness.act("p1", ROCK)
    assert info.value.code == "not_started"
    with pytest.raises(Refused) as refused:
        harness.control("pause")
    assert refused.value.code == "not_running"


def test_no_joining_after_the_game_started(rps: Cartridge) -> None:
    harness = started(rps, players=2)
    with pytest.raises(Refused) as info:
        harness.send(PlayerJoined(player_id="p9", name="Late"))
    assert info.value.code == "game_started"
    assert len(harness.table.players) == 2


def test_a_full_room_refuses_another_player(rps: Cartridge) -> None:
    harness = Harness(rps, players=rps.info.max_players)
    harness.join_all()
    with pytest.raises(Refused) as info:
        harness.send(PlayerJoined(player_id="p9", name="One Too Many"))
    assert info.value.code == "room_full"


@pytest.mark.parametrize("taken", ["alice", "ALICE", " Alice ", "Al\u200bice", "ａｌｉｃｅ"])
def test_names_are_taken_case_insensitively(rps: Cartridge, taken: str) -> None:
    runtime: Runtime[Any] = Runtime(rps)
    table = runtime.new_table(seed=1, now=0.0)
    runtime.apply(table, PlayerJoined(player_id="p1", name="Alice"), 1.0)
    with pytest.raises(Refused) as info:
        runtime.apply(table, PlayerJoined(player_id="p2", name=taken), 2.0)
    assert info.value.code == "name_taken"
    assert info.value.field == "name"


@pytest.mark.parametrize("name", ["", "   ", "\u200b\u202e", "x" * 21])
def test_bad_names_are_refused(rps: Cartridge, name: str) -> None:
    runtime: Runtime[Any] = Runtime(rps)
    table = runtime.new_table(seed=1, now=0.0)
    with pytest.raises(Refused) as info:
        runtime.apply(table, PlayerJoined(player_id="p1", name=name), 1.0)
    assert info.value.code == "bad_name"


def test_names_are_stored_clean(rps: Cartridge) -> None:
    runtime: Runtime[Any] = Runtime(rps)
    table = runtime.new_table(seed=1, now=0.0)
    runtime.apply(table, PlayerJoined(player_id="p1", name="  \u202eAnn\u200b  "), 1.0)
    assert table.players[0].name == "Ann"


def test_exit_closes_the_room(rps: Cartridge) -> None:
    harness = started(rps)
    step = harness.control("exit")
    table = step.table
    assert table.status == "closed"
    assert table.deadline is None
    assert [d.event for d in step.deliveries] == [SessionClosed(reason="host_exit")]
    assert [d.audience.kind for d in step.deliveries] == ["everyone"]
    with pytest.raises(InvalidAction) as info:
        harness.act("p1", ROCK)
    assert info.value.code == "game_over"
    with pytest.raises(Refused) as refused:
        harness.control("exit")
    assert refused.value.code == "closed"
    with pytest.raises(Refused) as refused:
        harness.send(PlayerJoined(player_id="p9", name="Late"))
    assert refused.value.code == "game_over"
    assert not harness.send(PlayerLeft(player_id="p1")).changed


def test_exit_works_from_the_lobby(rps: Cartridge) -> None:
    harness = Harness(rps, players=2)
    harness.join_all()
    assert harness.control("exit").table.status == "closed"


def test_a_game_over_ends_the_running_game(rps: Cartridge) -> None:
    harness = started(rps, players=2, rounds=1)
    harness.act("p1", ROCK)
    step = harness.act("p2", {"type": "throw", "move": "scissors"})
    assert step.table.status == "over"
    assert step.table.deadline is None
    assert step.table.results == {"scores": {"p1": 1, "p2": 0}}
    # The platform announces the end to everyone, after the game's own events.
    assert step.deliveries[-1].event == SessionFinished(results={"scores": {"p1": 1, "p2": 0}})
    assert step.deliveries[-1].audience.kind == "everyone"
    assert [type(d.event) for d in step.deliveries].count(SessionFinished) == 1
    with pytest.raises(InvalidAction) as info:
        harness.act("p1", ROCK)
    assert info.value.code == "game_over"


def test_again_after_game_over_opens_the_same_seats_for_another_game(rps: Cartridge) -> None:
    harness = started(rps, players=2, rounds=1)
    with pytest.raises(Refused) as early:
        harness.control("again")
    assert early.value.code == "not_over"
    harness.act("p1", ROCK)
    over = harness.act("p2", {"type": "throw", "move": "scissors"}).table
    assert over.status == "over"
    with pytest.raises(Refused) as late:
        harness.control("play")  # "play" after the end is still refused: "again" is the way
    assert late.value.code == "game_started"
    seats, seed, version = list(over.players), over.seed, over.version

    step = harness.send(HostControl(action="again", settings={"rounds": 2}))
    table = step.table
    assert table.version == version + 1
    assert table.status == "lobby"
    assert table.players == seats
    assert table.state is None
    assert table.results is None
    assert table.deadline is None
    assert table.settings["rounds"] == 2
    assert table.seed != seed  # another deal, derived from the last one: still replayable
    [delivery] = step.deliveries
    assert delivery.audience.kind == "everyone"
    assert isinstance(delivery.event, SessionNewGame)
    assert [p.id for p in delivery.event.players] == ["p1", "p2"]
    assert delivery.event.settings == table.settings

    # Between games players may join (and the lobby's kick removes a seat); then play again.
    harness.send(PlayerJoined(player_id="p3", name="Third"))
    assert harness.control("play").table.status == "running"
    harness.act("p1", ROCK)
    harness.act("p2", ROCK)
    harness.act("p3", {"type": "throw", "move": "paper"})
    assert harness.table.status == "running"  # two rounds now: the changed setting holds


def test_again_refuses_bad_settings_and_settings_on_other_controls(rps: Cartridge) -> None:
    harness = started(rps, players=2, rounds=1)
    harness.act("p1", ROCK)
    harness.act("p2", ROCK)
    before = harness.table.version
    with pytest.raises(WeirsoeError) as bad:
        harness.send(HostControl(action="again", settings={"rounds": -3}))
    assert bad.value.code == "invalid_settings"
    assert harness.table.version == before
    assert harness.table.status == "over"
    with pytest.raises(Refused) as wrong:
        harness.send(HostControl(action="pause", settings={"rounds": 1}))
    assert wrong.value.code == "bad_control"


def test_a_timer_set_while_paused_stays_frozen_until_resume(rps: Cartridge) -> None:
    """A leave while paused may end a round; the next round's timer must wait for resume."""
    base = type(rps.driver)

    class EndsRoundOnLeave(base):  # type: ignore[misc, valid-type]
        def on_leave(self, state: Any, player_id: str, ctx: Any) -> Any:
            if all(p in state.throws for p in ctx.connected_ids):
                return self.on_deadline(state, "", ctx)
            return super().on_leave(state, player_id, ctx)

    harness = started(replace(rps, driver=EndsRoundOnLeave()), throw_seconds=10.0)
    harness.act("p1", ROCK)
    harness.act("p2", ROCK)
    harness.clock.advance(4.0)
    harness.control("pause")
    step = harness.send(PlayerLeft(player_id="p3"))
    assert step.table.state is not None
    assert step.table.state.round == 2
    assert step.table.deadline is None
    assert (step.table.paused_key, step.table.remaining) == ("round2", 10.0)
    harness.clock.advance(60.0)
    deadline = harness.control("resume").table.deadline
    assert deadline is not None
    assert (deadline.key, deadline.at) == ("round2", harness.clock.now + 10.0)


def test_interleaved_tables_each_get_their_own_settings(rps: Cartridge) -> None:
    """The decoded settings are found by the identity of each table's settings dict: tables
    used in turn, a dict that a new game replaced, and a cache that filled up all read the
    settings the table holds."""
    runtime: Runtime[Any] = Runtime(rps)
    tables = [runtime.new_table(seed=n, now=1.0, settings={"rounds": n}) for n in range(1, 10)]
    for _ in range(3):
        assert [runtime.settings(t).rounds for t in tables] == list(range(1, 10))
    same = runtime.new_table(seed=1, now=1.0, settings={"rounds": 4})
    assert runtime.settings(same) is runtime.settings(tables[3])  # one Struct per value
    tables[0].settings = {**tables[0].settings, "rounds": 7}  # as a new game replaces it
    assert runtime.settings(tables[0]).rounds == 7
    runtime._settings_by_id.clear()
    for n in range(_runtime._SETTINGS_HELD + 5):  # past the bound: the cache starts again
        table = runtime.new_table(seed=n, now=1.0, settings={"rounds": 1 + n % 9})
        assert runtime.settings(table).rounds == 1 + n % 9
    assert 0 < len(runtime._settings_by_id) <= _runtime._SETTINGS_HELD
    assert [runtime.settings(t).rounds for t in tables[1:]] == list(range(2, 10))
