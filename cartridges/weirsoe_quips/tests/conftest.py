"""Fixtures: Weirsøe Quips with its core pack, and helpers to steer a game by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from weirsoe_quips.plugin import make_cartridge
from weirsoe_sdk import Cartridge
from weirsoe_sdk.testing import Harness


@pytest.fixture(scope="session")
def quips() -> Cartridge:
    return make_cartridge()


@pytest.fixture
def start(quips: Cartridge) -> Callable[..., Harness]:
    """``start(players=4, seed=0, **settings)``: a started game."""

    def make(players: int = 4, seed: int = 0, **settings: Any) -> Harness:
        harness = Harness(quips, players=players, seed=seed, settings=settings or None)
        harness.join_all()
        harness.control("play")
        return harness

    return make
