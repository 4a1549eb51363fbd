"""The audience desk's ``flush``: every dirty room's counts asked at once and every
``audience.tally`` published at once (docs/performance.md, section 42), with no change lost
that is made while a flush is under way. The Redis tests run on the real Redis at
127.0.0.1:6379, each process with its own connections under one key prefix."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
import pytest
from _platform_env import REDIS_URL
from _redis_processes import two_processes
from _service_support import memory_service
from redis import asyncio as aioredis

from weirsoe_platform._resp import AT_ONCE
from weirsoe_platform.audience import AudienceDesk
from weirsoe_platform.audience import _desk as desk_module
from weirsoe_platform.sessions import SessionService
from weirsoe_platform.sessions._counter import MemoryAudienceCounter, Progress
from weirsoe_platform.sessions._redis_counter import _PROGRESS, RedisAudienceCounter
from weirsoe_platform.sessions._redis_store import RedisSessionStore
from weirsoe_platform.transport import Hub
from weirsoe_sdk import Viewer

ROOMS = 12
_SLOT = 2.0  # seconds a room's progress slot lasts in the failed-publish test


def _desk(service: SessionService) -> AudienceDesk:
    store = service.store
    assert isinstance(store, RedisSessionStore)
    counter = RedisAudienceCounter(
        store.redis, prefix=service.settings.redis_prefix, fast=store.fast
    )
    service.counter = counter
    service.audience = desk = AudienceDesk(service, counter)
    return desk


async def _tally(events: Any) -> dict[str, Any]:
    while True:
        event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
        if event.get("type") == "audience.tally":
            return event  # type: ignore[no-any-return]


async def test_a_flush_of_many_rooms_costs_two_round_trips_on_redis(redis_cleanup: str) -> None:
    """Twelve dirty rooms: their progress scripts go out in one write and their twelve frames
    in one more (one room after another took two writes each), and every room's socket gets
    its own room's tally."""
    async with two_processes(redis_cleanup) as (near, _):
        service, hub = near.service, near.hub
        desk = _desk(service)
        rooms = []
        for seed in range(ROOMS):
            code, _ = await service.create("weirsoe_lies", seed=seed)
            ann, _, _ = await service.join(code, "Ann")
            sub = await hub.subscribe(service.viewer_channels(code, Viewer("player", ann)))
            rooms.append((code, sub.iter_events()))
        for i, (code, _) in enumerate(rooms):
            for _ in range(i % 3 + 1):
                await desk.join(code)
        store = service.store
        assert isinstance(store, RedisSessionStore)
        assert store.fast is not None
        # Loaded already, as on a server past its first flush (a Redis that forgot it costs
        # one SCRIPT LOAD and the batch again: test_platform_resp.py).
        await store.fast.execute(b"SCRIPT", b"LOAD", _PROGRESS)
        conn = store.fast._conn
        assert conn is not None
        before = conn.writes
        assert await desk.flush() == ROOMS
        writes = conn.writes - before
        assert writes <= 2, f"a flush of {ROOMS} rooms took {writes} writes to Redis"
        for i, (_, events) in enumerate(rooms):
            assert (await _tally(events))["members"] == i % 3 + 1


async def test_without_the_pipelined_connection_a_flush_keeps_a_few_commands_in_flight(
    redis_cleanup: str,
) -> None:
    """On redis-py's client (what a TLS address gets), a flush of 40 rooms asks and publishes
    ``AT_ONCE`` rooms at a time: every tally arrives, over at most ``AT_ONCE`` pooled
    connections (asking for all at once would open one per room)."""
    name = f"flush-{uuid.uuid4().hex[:8]}"
    client = aioredis.Redis.from_url(REDIS_URL, client_name=name)
    admin = aioredis.Redis.from_url(REDIS_URL)
    async with two_processes(redis_cleanup) as (near, _):
        service, hub = near.service, near.hub
        counter = RedisAudienceCounter(client, prefix=service.settings.redis_prefix)
        service.counter = counter
        service.audience = desk = AudienceDesk(service, counter)
        near.remote.publisher = client
        rooms = []
        for seed in range(40):
            code, _ = await service.create("weirsoe_lies", seed=seed)
            ann, _, _ = await service.join(code, "Ann")
            sub = await hub.subscribe(service.viewer_channels(code, Viewer("player", ann)))
            rooms.append(sub.iter_events())
            await desk.join(code)
        try:
            assert await desk.flush() == 40
            for events in rooms:
                assert (await _tally(events))["members"] == 1
            listed = await admin.client_list()
            opened = [c for c in listed if c.get("name") == name]
            assert 0 < len(opened) <= AT_ONCE
        finally:
            await client.aclose()
            await admin.aclose()


class _SlowCounter(MemoryAudienceCounter):
    """The embedded (memory) counter, answering ``progress`` only once ``release`` is set, so
    that a room can change while its counts are on their way."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def progress(self, code: str, interval: float) -> Progress | None:
        self.asked.set()
        await self.release.wait()
        return await super().progress(code, interval)


async def test_a_change_made_while_a_flush_asks_for_the_counts_is_published_by_the_next() -> None:
    """The room is marked clean before its counts are asked for: a member who joins while they
    are on their way is in the next flush's tally (the old flush marked the room clean after
    the answer, and that join's tally never went out)."""
    hub, counter = Hub(), _SlowCounter()
    service = memory_service(publisher=hub)
    service.counter = counter
    service.audience = desk = AudienceDesk(service, counter)
    code, _ = await service.create("weirsoe_lies", seed=1)
    ann, _, _ = await service.join(code, "Ann")
    sub = await hub.subscribe(service.viewer_channels(code, Viewer("player", ann)))
    events = sub.iter_events()
    await desk.join(code)
    flushing = asyncio.create_task(desk.flush())
    await asyncio.wait_for(counter.asked.wait(), 5)
    await desk.join(code)  # while the counts are on their way
    counter.release.set()
    assert await flushing == 1
    assert (await _tally(events))["members"] in (1, 2)
    await asyncio.sleep(0.55)  # the room's next progress slot
    assert await desk.flush() == 1
    assert (await _tally(events))["members"] == 2


async def test_rooms_whose_tally_was_not_published_are_flushed_again(
    redis_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish that fails loses no room: each is dirty again, and goes out once its slot is
    free. The failure is real: the process's publishing client points at a loopback port
    where no Redis listens, then back at the real one. The slot lasts 2 s here instead of
    0.5 s, so that a stall of the test's loop between the first two flushes (a busy CI
    machine) cannot free it before the second."""
    monkeypatch.setattr(desk_module, "PROGRESS_INTERVAL", _SLOT)
    nowhere = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    async with two_processes(redis_cleanup) as (near, _):
        service, hub = near.service, near.hub
        desk = _desk(service)
        code, _ = await service.create("weirsoe_lies", seed=2)
        ann, _, _ = await service.join(code, "Ann")
        sub = await hub.subscribe(service.viewer_channels(code, Viewer("player", ann)))
        events = sub.iter_events()
        await desk.join(code)
        working, near.remote.publisher = near.remote.publisher, nowhere
        try:
            assert await desk.flush() == 0
        finally:
            near.remote.publisher = working
            await nowhere.aclose()
        assert await desk.flush() == 0  # its slot is still taken
        await asyncio.sleep(_SLOT + 0.05)
        assert await desk.flush() == 1
        assert (await _tally(events))["members"] == 1
