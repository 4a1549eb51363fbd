"""Fixtures for cross-package tests: real server processes on loopback, on every backend.

``WEIRSOE_TEST_BACKENDS`` (default ``memory,redis``) selects the legs. The Redis leg uses the
real server at ``WEIRSOE_TEST_REDIS`` (default ``redis://127.0.0.1:6379/0``) with a unique key
prefix per server, and is skipped, with the reason, only if that server cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from _live import Server

# The test-only cartridges (weirsoe.test_cartridges, e.g. rps) load only where this is set: the
# tests and the servers they start see them; `weirsoe serve` never shows them to players.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")

REDIS_URL = os.environ.get("WEIRSOE_TEST_REDIS", "redis://127.0.0.1:6379/0")
BACKENDS = [
    b.strip()
    for b in os.environ.get("WEIRSOE_TEST_BACKENDS", "memory,redis").split(",")
    if b.strip()
]

FAST_LIES = {
    "lie_seconds": 1.5,
    "guess_seconds": 1.5,
    "reveal_step_seconds": 0.2,
    "scoreboard_seconds": 0.2,
}


def redis_unreachable() -> str | None:
    """None if Redis answers, else the reason it does not."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} unreachable: {type(exc).__name__}: {exc}"
    return None


def start_server(
    backend: str, *, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()
) -> Server:
    # Every test connects from 127.0.0.1: lift the per-address limits unless a test sets them.
    env = {"WEIRSOE_JOIN_RATE": "100000", "WEIRSOE_UNKNOWN_CODE_RATE": "100000", **(env or {})}
    args = list(extra)
    if backend == "redis":
        env.setdefault("WEIRSOE_REDIS_PREFIX", f"wtest-{uuid.uuid4().hex[:10]}")
        args += ["--redis", REDIS_URL, "--with-worker"]
    srv = Server(*args, env=env)
    srv.backend = backend  # type: ignore[attr-defined]
    srv.prefix = env.get("WEIRSOE_REDIS_PREFIX")  # type: ignore[attr-defined]
    return srv


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
