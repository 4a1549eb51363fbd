"""Fixtures for platform tests: a real Redis client with an isolated prefix, and an empty
database on each SQL backend (a SQLite file; a new database on the real PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The test-only cartridges (weirsoe.test_cartridges, e.g. rps) load only where this is set: the
# tests and the servers they start see them; `weirsoe serve` never shows them to players.
os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")

from _platform_env import REDIS_URL, redis_reason


@pytest.fixture
def redis_prefix() -> str:
    reason = redis_reason()
    if reason:
        pytest.skip(reason)
    return f"wtest-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis_cleanup(redis_prefix: str) -> AsyncIterator[str]:
    yield redis_prefix
    from redis import asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    async for key in client.scan_iter(f"{redis_prefix}:*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def make_service() -> Callable[[str], Any]:
    """Makes a ``SessionService`` on the real Redis under a key prefix, as a scale-out process
    has it: no publisher (the store publishes inside its compare-and-set), Redis deadlines."""
    from weirsoe_platform.config import PlatformSettings
    from weirsoe_platform.sessions import SessionService
    from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
    from weirsoe_platform.timers import RedisDeadlines
    from weirsoe_sdk import discover_cartridges

    discovery = discover_cartridges()

    def make(prefix: str) -> SessionService:
        redis = connect_redis(REDIS_URL)
        settings = PlatformSettings(redis_url=REDIS_URL, redis_prefix=prefix)
        return SessionService(
            cartridges=discovery,
            store=RedisSessionStore(redis, prefix=prefix),
            deadlines=RedisDeadlines(redis, prefix=prefix, ttl=settings.game_ttl),
            settings=settings,
            channel_prefix=f"{prefix}:",
        )

    return make


# -- databases ---------------------------------------------------------------------------------
# The same tests run on SQLite (a temporary file) and on the real PostgreSQL, where each test
# gets a database of its own (``weirsoe_t_<random>``), dropped afterwards.
# ``WEIRSOE_TEST_DATABASES`` (default ``sqlite,postgresql``) selects the legs; the PostgreSQL leg
# is skipped, with the reason, only if ``WEIRSOE_TEST_POSTGRES`` cannot be reached.

POSTGRES_URL = os.environ.get("WEIRSOE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = [
    d.strip()
    for d in os.environ.get("WEIRSOE_TEST_DATABASES", "sqlite,postgresql").split(",")
    if d.strip()
]


def postgres_reason() -> str | None:
    import asyncio

    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=2)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {type(exc).__name__}: {exc}"
    return None


def _admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(
    params=[
        pytest.param(d, marks=[pytest.mark.postgres] if d == "postgresql" else [])
        for d in DATABASES
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, the same tests on each backend: its async SQLAlchemy URL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'weirsoe.db'}"
        return
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    name = f"weirsoe_t_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The database at head: upgraded as ``weirsoe db upgrade`` would (SQLite: by the app)."""
    from _accounts_support import migrate

    return migrate(database_url)
