"""Only real games reach players: the test-only cartridges (``tests/cartridges``) are hidden
from the README's ``weirsoe serve`` and ``weirsoe cartridges``, and visible to the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
from _live import Server

from weirsoe_sdk import TEST_CARTRIDGES_ENV, discover_cartridges


def _env(enabled: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TEST_CARTRIDGES_ENV}
    if enabled:
        env[TEST_CARTRIDGES_ENV] = "1"
    return env


def _listed(enabled: bool) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-m", "weirsoe_platform.cli", "cartridges", "--json"],
        env=_env(enabled),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return {c["slug"] for c in json.loads(out)["cartridges"]}


def test_weirsoe_cartridges_lists_no_test_cartridge() -> None:
    product = _listed(enabled=False)
    assert "weirsoe_lies" in product
    assert "rps" not in product
    assert "rps" in _listed(enabled=True)


def test_the_tests_still_see_the_test_cartridge() -> None:
    assert os.environ.get(TEST_CARTRIDGES_ENV) == "1"  # set by tests/_env.py (conftest)
    assert "rps" in discover_cartridges().cartridges


def test_the_host_page_lists_only_real_games() -> None:
    srv = Server(env={TEST_CARTRIDGES_ENV: ""})
    try:
        listed = httpx.get(srv.base + "/api/cartridges", timeout=10).json()["cartridges"]
        slugs = [c["slug"] for c in listed]
        assert "rps" not in slugs
        assert slugs[0] == "weirsoe_lies"  # the first is the one the host page preselects
        refused = httpx.post(srv.base + "/api/sessions", json={"cartridge": "rps"}, timeout=10)
        assert refused.status_code in (400, 404, 422)
        assert refused.json()["error"]["code"] == "unknown_cartridge"
    finally:
        srv.stop()
