"""Scale-out processes in one test: each a service whose hub has its own pub/sub connection to
the real Redis at 127.0.0.1:6379, as ``weirsoe serve --redis`` wires one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from _platform_env import REDIS_URL

from weirsoe_platform._redis_pubsub import RedisPubSub
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.sessions import SessionService
from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
from weirsoe_platform.timers import RedisDeadlines
from weirsoe_platform.transport import Hub
from weirsoe_sdk import discover_cartridges

DISCOVERY = discover_cartridges()


class RedisProcess:
    """A scale-out process as the app wires one: the hub on its own pub/sub connection is the
    service's publisher, and the store publishes inside its compare-and-set. ``hold()`` keeps
    the pub/sub frames that arrive from reaching the hub (pub/sub's own delay, made longer)
    until ``release()``."""

    def __init__(self, prefix: str) -> None:
        self.hub = hub = Hub(channel_prefix=f"{prefix}:", wire_prefix=f"{prefix}:")
        redis = connect_redis(REDIS_URL)
        store = RedisSessionStore(redis, prefix=prefix)
        self.held: list[tuple[bytes, bytes]] | None = None
        hub.remote = self.remote = RedisPubSub(
            REDIS_URL,
            self._on_message,
            publisher=store.fast,
            on_reset=hub.reset,
            marker_prefix=prefix,
        )
        settings = PlatformSettings(redis_url=REDIS_URL, redis_prefix=prefix)
        self.service = SessionService(
            cartridges=DISCOVERY,
            store=store,
            publisher=hub,
            deadlines=RedisDeadlines(redis, prefix=prefix, ttl=settings.game_ttl),
            settings=settings,
            channel_prefix=f"{prefix}:",
        )

    def _on_message(self, channel: bytes, frame: bytes) -> None:
        if self.held is None:
            self.hub.on_wire_message(channel, frame)
        else:
            self.held.append((channel, frame))

    def hold(self) -> None:
        self.held = []

    def release(self) -> int:
        held, self.held = self.held or [], None
        for channel, frame in held:
            self.hub.on_wire_message(channel, frame)
        return len(held)

    async def stop(self) -> None:
        await self.hub.stop()
        await self.service.store.close()


@contextlib.asynccontextmanager
async def two_processes(prefix: str) -> AsyncIterator[tuple[RedisProcess, RedisProcess]]:
    """Two scale-out processes under ``prefix``, their hubs started; stopped afterwards."""
    near, far = RedisProcess(prefix), RedisProcess(prefix)
    await near.hub.start()
    await far.hub.start()
    try:
        yield near, far
    finally:
        await near.stop()
        await far.stop()


async def kill_pubsub(process: RedisProcess | RedisPubSub) -> None:
    """Kill the process's pub/sub connection (or that one) in Redis (``CLIENT KILL``), and wait
    until it is connected again."""
    remote = process.remote if isinstance(process, RedisProcess) else process
    writer = remote._writer
    assert writer is not None
    host, port = writer.get_extra_info("sockname")[:2]
    admin = connect_redis(REDIS_URL)
    try:
        assert await admin.client_kill_filter(_type=None, addr=f"{host}:{port}") == 1
    finally:
        await admin.aclose()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(remote.connected.wait(), 5)
