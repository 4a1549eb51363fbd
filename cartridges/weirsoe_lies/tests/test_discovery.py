"""Weirsøe Lies is installed: discovered through its entry point, with its distribution."""

from __future__ import annotations

import weirsoe_lies
from weirsoe_sdk import Discovery, get_plugin_manager


def test_weirsoe_lies_is_discovered_with_its_distribution(
    weirsoe_cartridges: Discovery,
) -> None:
    assert "weirsoe_lies" in {name for name, _ in get_plugin_manager().list_name_plugin()}
    found = weirsoe_cartridges.cartridges["weirsoe_lies"]
    assert found.distribution == "weirsoe-lies"
    assert found.describe() == {
        "slug": "weirsoe_lies",
        "title": "Weirsøe Lies",
        "version": weirsoe_lies.__version__,
        "min_players": 2,
        "max_players": 8,
        "description": found.info.description,
        "joinable_midgame": False,
        "distribution": "weirsoe-lies",
    }
