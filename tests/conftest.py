"""Fixtures for cross-package tests: real server processes on loopback, on every backend.

``WEIRSOE_TEST_BACKENDS`` (default ``memory,redis``) selects the legs. The Redis leg uses the
real server at ``WEIRSOE_TEST_REDIS`` (default ``redis://127.0.0.1:6379/0``) with a unique key
prefix per server, and is skipped, with the reason, only if that server cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _env import BACKENDS, redis_unreachable, start_server
from _live import Server


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    if name == "redis":
        reason = redis_unreachable()
        if reason:
            pytest.skip(reason)
    return name


@pytest.fixture(scope="module")
def server(backend: str) -> Iterator[Server]:
    """A ``weirsoe serve`` for the module, on each backend."""
    srv = start_server(backend, env={"WEIRSOE_GRACE_SECONDS": "60"})
    try:
        yield srv
    finally:
        srv.stop()
