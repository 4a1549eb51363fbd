"""Fixtures for cross-package tests: real server processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _live import Server

FAST_LIES = {
    "lie_seconds": 1.5,
    "guess_seconds": 1.5,
    "reveal_step_seconds": 0.2,
    "scoreboard_seconds": 0.2,
}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """An embedded ``weirsoe serve`` for the module."""
    srv = Server(env={"WEIRSOE_GRACE_SECONDS": "60"})
    try:
        yield srv
    finally:
        srv.stop()
