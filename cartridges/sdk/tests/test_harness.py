"""The harness: whole games with bots and a fake clock, and a leak checker that really bites."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from weirsoe_sdk import (
    AUDIENCE,
    EVERYONE,
    HOST,
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
    to_players,
)
from weirsoe_sdk.testing import FakeClock, Harness, LeakError, recipients_of

# The test-only rps cartridge (weirsoe.test_cartridges) loads only where this is set.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")


class NoSettings(msgspec.Struct, forbid_unknown_fields=True):
    pass


class Words(msgspec.Struct):
    words: dict[str, str] = {}


class Say(msgspec.Struct, tag_field="type", tag="say"):
    text: str


class Said(Event, tag="words.said", frozen=True):
    player_id: str


class Heard(Event, tag="words.heard", frozen=True):
    text: str


class WordDriver(GameDriver[Words, NoSettings]):
    """Everyone writes a secret word; the words are revealed when the timer ends the game."""

    def __init__(self, *, leaky_view: bool = False, leaky_event: bool = False) -> None:
        self.leaky_view = leaky_view
        self.leaky_event = leaky_event

    def setup(self, ctx: Context[NoSettings]) -> Outcome[Words]:
        return Outcome(Words(), [SetDeadline("end", ctx.now + 5)])

    def phase(self, state: Words) -> str:
        return "write"

    def on_action(
        self, state: Words, player_id: str, action: Any, ctx: Context[NoSettings]
    ) -> Outcome[Words]:
        state.words[player_id] = action.text
        if action.text == "bad":  # changes the state, then rejects: the change must vanish
            raise InvalidAction("not that word", code="bad_word")
        private = to_players(player_id) if not self.leaky_event else EVERYONE
        return Outcome(
            state, [Emit(Said(player_id=player_id)), Emit(Heard(text=action.text), private)]
        )

    def on_deadline(self, state: Words, key: str, ctx: Context[NoSettings]) -> Outcome[Words]:
        words = dict(state.words)
        state.words = {}  # revealed: no longer secret
        return Outcome(state, [GameOver({"words": words})])

    def view(self, state: Words, viewer: Viewer, ctx: Context[NoSettings]) -> dict[str, Any]:
        view: dict[str, Any] = {"count": len(state.words)}
        view["mine"] = state.words.get(viewer.player_id or "")
        if self.leaky_view:
            view["words"] = dict(state.words)
        return view

    def secrets(self, state: Words, ctx: Context[NoSettings]) -> Iterable[Secret]:
        return [
            Secret(msgspec.json.encode(word).decode(), frozenset({pid}), f"the word of {pid}")
            for pid, word in state.words.items()
        ]


class WordBot:
    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        return {"type": "say", "text": canary()} if view["mine"] is None else None


def cartridge(driver: WordDriver, bot: Any = None) -> Cartridge:
    return Cartridge(
        info=CartridgeInfo(slug="words", title="Words", version="0", min_players=2, max_players=6),
        driver=driver,
        settings_type=NoSettings,
        state_type=Words,
        action_type=Say,
        events=(Said, Heard),
        bot=bot or WordBot(),
    )


def test_a_careful_game_plays_through() -> None:
    record = Harness(cartridge(WordDriver()), players=4, seed=2).play()
    assert record.table.status == "over"
    words = record.results["words"]
    assert sorted(words) == ["p1", "p2", "p3", "p4"]
    assert len(set(words.values())) == 4
    # Each player heard only its own word.
    for pid, word in words.items():
        heard = [m.json()["text"] for m in record.messages[pid] if m.type == "words.heard"]
        assert heard == [word]
    assert "words.heard" not in record.types_for("host")


def test_the_leak_checker_catches_a_view_that_shows_every_secret() -> None:
    harness = Harness(cartridge(WordDriver(leaky_view=True)), players=3, seed=1)
    with pytest.raises(LeakError) as info:
        harness.play()
    leaks = info.value.leaks
    assert leaks
    assert {leak.where for leak in leaks} == {"snapshot"}
    for leak in leaks:
        owner = leak.label.removeprefix("the word of ")
        assert leak.recipient != owner
        assert leak.secret.strip('"').startswith("kanari")
    # The host, the audience and the other players all saw it.
    assert {"host", "audience"} <= {leak.recipient for leak in leaks}
    assert "secrets leaked" in str(info.value)


def test_the_leak_checker_catches_an_event_sent_to_everyone() -> None:
    harness = Harness(cartridge(WordDriver(leaky_event=True)), players=3, seed=1)
    with pytest.raises(LeakError) as info:
        harness.play()
    assert {leak.where for leak in info.value.leaks} == {"event words.heard"}


def test_leak_checking_can_be_turned_off() -> None:
    harness = Harness(cartridge(WordDriver(leaky_view=True)), players=3, seed=1, check_leaks=False)
    assert harness.play().table.status == "over"


class RecordingBot:
    """Sends one rejected action, then only watches."""

    def __init__(self) -> None:
        self.sent_bad = False
        self.counts: list[int] = []

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        if not self.sent_bad:
            self.sent_bad = True
            return {"type": "say", "text": "bad"}
        self.counts.append(view["count"])
        return None


def test_bots_never_see_the_changes_of_a_rejected_action() -> None:
    bot = RecordingBot()
    harness = Harness(cartridge(WordDriver(), bot=bot), players=3, seed=1)
    record = harness.play()
    assert record.rejected == 1
    assert record.table.status == "over"
    assert record.results == {"words": {}}
    assert bot.counts
    assert set(bot.counts) == {0}


def test_the_same_seed_plays_the_same_game(
    weirsoe_harness: Callable[..., Harness],
) -> None:
    first = weirsoe_harness("rps", players=3, seed=11).play()
    second = weirsoe_harness("rps", players=3, seed=11).play()
    other = [weirsoe_harness("rps", players=3, seed=s).play().results for s in range(12, 20)]
    assert first.results == second.results
    assert first.messages == second.messages
    assert any(results != first.results for results in other)


def test_the_harness_fixture_takes_a_cartridge_object(
    weirsoe_harness: Callable[..., Harness],
) -> None:
    harness = weirsoe_harness(cartridge(WordDriver()), players=2)
    assert harness.play().table.status == "over"


def test_chaos_drops_and_returns_players_and_the_game_still_ends(
    weirsoe_harness: Callable[..., Harness],
) -> None:
    record = weirsoe_harness("rps", players=4, seed=5, chaos=0.5).play()
    assert record.table.status == "over"
    left = [m for m in record.messages["host"] if m.type == "session.player_left"]
    assert left


def test_a_game_without_a_bot_needs_one() -> None:
    plain = cartridge(WordDriver())
    with pytest.raises(ValueError, match="no bot"):
        Harness(replace(plain, bot=None), players=2).play()


def test_fake_clock_moves_only_forward_when_told() -> None:
    clock = FakeClock(start=100.0)
    assert clock.advance(2.5) == 102.5
    assert clock.set(101.0) == 102.5  # never backwards
    assert clock.set(110.0) == 110.0
    assert clock.now == 110.0


def test_recipients_of_each_audience() -> None:
    players = ["p1", "p2"]
    assert recipients_of(EVERYONE, players) == ["host", "audience", "p1", "p2"]
    assert recipients_of(HOST, players) == ["host"]
    assert recipients_of(AUDIENCE, players) == ["audience"]
    assert recipients_of(to_players("p2"), players) == ["p2"]


def test_secrets_match_whole_tokens_only() -> None:
    from weirsoe_sdk.testing._harness import contains_token

    assert contains_token('{"number":1}', '"number":1')
    assert not contains_token('{"number":10}', '"number":1')
    assert contains_token('{"number":10,"x":"number":1}', '"number":1')
    assert not contains_token('"kanari1x22q"', "kanari1x2")
    assert contains_token('["kanari1x2q"]', '"kanari1x2q"')
