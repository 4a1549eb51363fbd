"""The leak checker over hundreds of seeded games: no message or view ever shows anyone a secret
they may not see (the truth before the reveal, another player's lie, who wrote which answer)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec
import pytest

from weirsoe_lies.driver import LiesDriver
from weirsoe_lies.state import LiesState
from weirsoe_sdk import Discovery, Viewer
from weirsoe_sdk.testing import Harness, LeakError

GAMES = 504  # 72 seeds for each player count from 2 to 8


@pytest.mark.slow
def test_no_leaks_in_hundreds_of_games(weirsoe_cartridges: Discovery) -> None:
    cartridge = weirsoe_cartridges.get("weirsoe_lies")
    authored = 0
    for seed in range(GAMES):
        harness = Harness(cartridge, players=2 + seed % 7, seed=seed, chaos=0.05, record=False)
        record = harness.play()  # raises LeakError at the first leak
        assert record.table.status == "over", seed
        final = record.table.state
        assert isinstance(final, LiesState)
        authored += sum(len(a.authors) for a in final.answers)
    assert authored > GAMES  # the bots really wrote lies for the checker to trace


class TellsTheTruth(LiesDriver):
    def view(self, state: LiesState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        return {**super().view(state, viewer, ctx), "truth": state.card.truth}


class ShowsAuthors(LiesDriver):
    def view(self, state: LiesState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        answers = msgspec.to_builtins(state.answers)
        return {**super().view(state, viewer, ctx), "answers": answers}


class ShowsAllLies(LiesDriver):
    def view(self, state: LiesState, viewer: Viewer, ctx: Any) -> dict[str, Any]:
        lies = {pid: lie.text for pid, lie in state.lies.items()}
        return {**super().view(state, viewer, ctx), "lies": lies}


@pytest.mark.parametrize(
    ("driver", "label"),
    [
        (TellsTheTruth, "the truth"),
        (ShowsAuthors, "lie authorship"),
        (ShowsAllLies, "the lie of"),
    ],
)
def test_the_checker_knows_the_secrets_of_lies(
    weirsoe_cartridges: Discovery, driver: type[LiesDriver], label: str
) -> None:
    real = weirsoe_cartridges.get("weirsoe_lies")
    assert isinstance(real.driver, LiesDriver)
    leaky = replace(real, driver=driver(real.driver.packs))
    with pytest.raises(LeakError) as info:
        Harness(leaky, players=4, seed=1).play()
    assert any(leak.label.startswith(label) for leak in info.value.leaks)
