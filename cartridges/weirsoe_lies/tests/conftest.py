"""Fixtures: Weirsøe Lies with a small operator pack whose every prompt has the same truth,
so that tests know the truth, its alternates and the house lies whatever card is dealt."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from weirsoe_lies.plugin import make_cartridge
from weirsoe_sdk import Cartridge
from weirsoe_sdk.testing import Harness

# The test-only cartridges (weirsoe.test_cartridges, e.g. rps) load only where this is set: the
# tests and the servers they start see them; `weirsoe serve` never shows them to players.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")

TRUTH = "Zürich"
ALTERNATE = "Züri"
HOUSE_LIES = ["Geneva", "Basel", "Bern", "Lausanne"]


def pack_data(count: int = 6) -> dict[str, Any]:
    return {
        "slug": "test",
        "title": "Test pack",
        "version": 1,
        "prompts": [
            {
                "id": f"t{i}",
                "prompt": f"Question {i}: the largest city in Switzerland is _____.",
                "truth": TRUTH,
                "alternates": [ALTERNATE],
                "house_lies": HOUSE_LIES,
                "category": "Places",
                "family_safe": True,
            }
            for i in range(1, count + 1)
        ],
    }


@pytest.fixture(scope="session")
def content_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("content")
    (root / "weirsoe_lies").mkdir()
    (root / "weirsoe_lies" / "test.json").write_text(json.dumps(pack_data()), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def lies(content_dir: Path) -> Cartridge:
    return make_cartridge(content_dir)


@pytest.fixture
def start(lies: Cartridge) -> Callable[..., Harness]:
    """``start(players=3, seed=0, **settings)``: a started game on the test pack."""

    def make(players: int = 3, seed: int = 0, **settings: Any) -> Harness:
        settings.setdefault("packs", ["test"])
        harness = Harness(lies, players=players, seed=seed, settings=settings)
        harness.join_all()
        harness.control("play")
        return harness

    return make
