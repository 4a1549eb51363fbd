"""Fixtures for platform tests: a real Redis client with an isolated prefix."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

REDIS_URL = os.environ.get("WEIRSOE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} unreachable: {type(exc).__name__}: {exc}"
    return None


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
