"""What the cross-package tests share besides fixtures: the Redis they use, the backends
they run on, fast Weirsøe Lies timers, and a real ``weirsoe serve`` per backend.

Test modules import these from here, never ``from _env import``: with every test folder
collected, the module named ``conftest`` may be another folder's (platform/tests has one).
"""

from __future__ import annotations

import os
import uuid

from _live import Server

__all__ = ["BACKENDS", "FAST_LIES", "REDIS_URL", "redis_unreachable", "start_server"]

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
