"""pytest plugin: ``weirsoe_cartridges`` and ``weirsoe_harness`` fixtures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .._meta import Cartridge
from .._plugins import Discovery, discover_cartridges
from ._harness import Harness


@pytest.fixture(scope="session")
def weirsoe_cartridges() -> Discovery:
    """Every installed cartridge, discovered through the ``weirsoe.cartridges`` entry points."""
    return discover_cartridges()


@pytest.fixture
def weirsoe_harness(weirsoe_cartridges: Discovery) -> Callable[..., Harness]:
    """A factory: ``weirsoe_harness("slug" or Cartridge, players=4, seed=1, ...)``."""

    def make(cartridge: str | Cartridge, **kwargs: Any) -> Harness:
        if isinstance(cartridge, str):
            cartridge = weirsoe_cartridges.get(cartridge)
        return Harness(cartridge, **kwargs)

    return make
