"""The leak checker over hundreds of seeded games (3-8 players): no message or view ever shows
anyone a prompt or an answer before its face-off, who wrote what before the vote ends, or how
anyone voted. And the checker does know those secrets: leaky drivers are caught."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from weirsoe_quips.driver import QuipsDriver
from weirsoe_quips.state import QuipsState
from weirsoe_sdk import Cartridge, Discovery, Viewer
from weirsoe_sdk.testing import Harness, LeakError

# 504 games (84 seeds for each player count from 3 to 8) with WEIRSOE_FULL_FAULTS=1 or in the
# slow suite; CI's default run plays 120.
FULL = os.environ.get("WEIRSOE_FULL_FAULTS") == "1"
GAMES = 504 if FULL else 120


@pytest.mark.slow
def test_no_leaks_in_hundreds_of_games(weirsoe_cartridges: Discovery) -> None:
    cartridge = weirsoe_cartridges.get("weirsoe_quips")
    written = 0
    for seed in range(GAMES):
        harness = Harness(cartridge, players=3 + seed % 6, seed=seed, chaos=0.05, record=False)
        record = harness.play()  # raises LeakError at the first leak
        assert record.table.status == "over", seed
        final = record.table.state
        assert isinstance(final, QuipsState)
        written += sum(len(e) for e in final.entries.values())
    assert written > GAMES  # the bots really wrote answers for the checker to trace


class ShowsAllAnswers(QuipsDriver):
    def view(self, state: QuipsState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        texts = [e.text for entries in state.entries.values() for e in entries.values()]
        return {**super().view(state, viewer, ctx), "all": texts}


class ShowsAllPrompts(QuipsDriver):
    def view(self, state: QuipsState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        return {**super().view(state, viewer, ctx), "prompts": [m.prompt for m in state.matchups]}


class ShowsAuthors(QuipsDriver):
    def view(self, state: QuipsState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        shown = msgspec.to_builtins(state.shown()) if state.matchups else []
        return {**super().view(state, viewer, ctx), "shown": shown}


class ShowsVotes(QuipsDriver):
    def view(self, state: QuipsState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        view = super().view(state, viewer, ctx)
        if state.votes and state.phase == "vote":
            _voter, aid = next(iter(state.votes.items()))
            view["me"] = {**view.get("me", {}), "my_vote": aid}
        return view


def play_some(cartridge: Cartridge) -> None:
    for seed in range(5):
        Harness(cartridge, players=5, seed=seed).play()


@pytest.mark.parametrize(
    ("driver", "label"),
    [
        (ShowsAllAnswers, "an answer before its face-off"),
        (ShowsAllPrompts, "the prompt"),
        (ShowsAuthors, "authorship"),
        (ShowsVotes, "a vote"),
    ],
)
def test_the_checker_knows_the_secrets_of_quips(
    weirsoe_cartridges: Discovery, driver: type[QuipsDriver], label: str
) -> None:
    real = weirsoe_cartridges.get("weirsoe_quips")
    assert isinstance(real.driver, QuipsDriver)
    leaky: Cartridge = replace(real, driver=driver(real.driver.packs))
    with pytest.raises(LeakError) as info:
        play_some(leaky)
    assert any(leak.label.startswith(label) for leak in info.value.leaks)
