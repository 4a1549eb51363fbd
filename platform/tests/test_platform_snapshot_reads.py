"""What a snapshot asks for: the audience's numbers at most ``NUMBERS_FOR`` old (exact after a
change through this process; kept until the room's next ``audience.tally`` where its frames
arrive), whether the audience is on from the snapshot's own record, and on
Redis the record only when the one held here is not the stored one (docs/performance.md,
section 37). Every test runs on the real Redis at 127.0.0.1:6379; two processes are two
services, each with its own connections, desk and counter, under one key prefix."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
from _platform_env import REDIS_URL
from _redis_processes import RedisProcess, kill_pubsub, two_processes

from weirsoe_platform._resp import PipelinedRedis
from weirsoe_platform.audience import AudienceDesk
from weirsoe_platform.audience._desk import NUMBERS_FOR, PROGRESS_INTERVAL
from weirsoe_platform.sessions import SessionService
from weirsoe_platform.sessions._codes import hash_token
from weirsoe_platform.sessions._records import SessionRecord
from weirsoe_platform.sessions._redis_counter import RedisAudienceCounter
from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
from weirsoe_sdk import Viewer, discover_cartridges

DISCOVERY = discover_cartridges()


def _desk(service: SessionService, fast: PipelinedRedis | None = None) -> AudienceDesk:
    """The service's audience desk on the real Redis counter, as the app wires them (the
    counter on the store's pipelined connection, or on ``fast``). ``desk.asked`` counts how
    often a snapshot asked it for its numbers."""
    store = service.store
    assert isinstance(store, RedisSessionStore)
    prefix = service.settings.redis_prefix
    counter = RedisAudienceCounter(store.redis, prefix=prefix, fast=fast or store.fast)
    service.counter = counter
    service.audience = desk = AudienceDesk(service, counter)
    return desk


@contextlib.asynccontextmanager
async def _processes(
    prefix: str, make_service: Callable[[str], SessionService], count: int
) -> AsyncIterator[list[tuple[SessionService, AudienceDesk]]]:
    """``count`` processes on Redis under ``prefix``: ``(service, desk)`` each."""
    made = []
    for _ in range(count):
        service = make_service(prefix)
        made.append((service, _desk(service)))
    try:
        yield made
    finally:
        for service, _ in made:
            await service.store.close()


async def _room(service: SessionService, seed: int) -> tuple[str, str, Viewer]:
    """A room of ``seed`` with Ann in it: ``(code, host token, Ann's viewer)``."""
    code, host = await service.create("weirsoe_lies", seed=seed)
    ann, _, _ = await service.join(code, "Ann")
    return code, host, Viewer("player", ann)


async def _audience(service: SessionService, code: str, viewer: Viewer) -> dict[str, Any]:
    return json.loads(await service.snapshot(code, viewer))["audience"]  # type: ignore[no-any-return]


async def test_snapshots_share_the_audience_numbers_for_a_while(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    async with _processes(redis_cleanup, make_service, 1) as [(service, desk)]:
        code, _, viewer = await _room(service, 1)
        for _ in range(5):
            await service.snapshot(code, viewer)
        assert desk.asked == 1
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        await service.snapshot(code, viewer)
        assert desk.asked == 2


async def test_a_change_through_this_process_shows_in_the_next_snapshot(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    async with _processes(redis_cleanup, make_service, 1) as [(service, desk)]:
        code, host, viewer = await _room(service, 2)
        assert (await _audience(service, code, viewer))["members"] == 0
        member, _ = await desk.join(code)
        assert (await _audience(service, code, viewer))["members"] == 1
        await desk.watch(code, 1)
        assert (await _audience(service, code, viewer))["watching"] == 1
        await desk.watch(code, -1)
        assert (await _audience(service, code, viewer))["watching"] == 0
        await desk.kick(code, host, member)  # kicking refreshes too (it counts no fewer members)
        assert (await _audience(service, code, viewer))["members"] == 1


async def test_a_change_elsewhere_shows_within_numbers_for(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """The other process's join shows in this one's snapshots once the numbers it holds are
    ``NUMBERS_FOR`` old."""
    async with _processes(redis_cleanup, make_service, 2) as [(here, _), (_, elsewhere)]:
        code, _, viewer = await _room(here, 3)
        assert (await _audience(here, code, viewer))["members"] == 0
        await elsewhere.join(code)
        assert (await _audience(here, code, viewer))["members"] == 0  # held, still young
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        assert (await _audience(here, code, viewer))["members"] == 1


async def test_numbers_asked_while_this_process_changed_them_are_not_kept(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """The counter here is on a pipelined connection of its own, whose reading is paused
    (``pause_reading``) while the snapshot's numbers are on their way: Redis has answered, and
    the join completes through the store's connections before the answer is read."""
    async with _processes(redis_cleanup, make_service, 1) as [(service, _)]:
        store = service.store
        assert isinstance(store, RedisSessionStore)
        own = PipelinedRedis.of_client(store.redis)
        assert own is not None
        desk = _desk(service, own)
        code, _, viewer = await _room(service, 4)
        await desk.counter.stats(code)  # opens its connection (the desk holds nothing yet)
        transport = (await own._connection()).transport
        transport.pause_reading()
        reading = asyncio.create_task(service.snapshot(code, viewer))
        while desk.asked == 0:  # the join below happens while these numbers are on their way
            await asyncio.sleep(0.001)
        await desk.join(code)
        transport.resume_reading()
        assert json.loads(await reading)["audience"]["members"] == 0  # asked before the join
        assert (await _audience(service, code, viewer))["members"] == 1
        assert desk.asked == 2
        await own.aclose()


async def test_whether_the_audience_is_on_comes_from_the_snapshots_own_record(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """Turned off through another process, the audience is off in this process's very next
    snapshot, although its numbers are still the ones it held."""
    async with _processes(redis_cleanup, make_service, 2) as [(here, desk), (_, elsewhere)]:
        code, host, viewer = await _room(here, 5)
        assert (await _audience(here, code, viewer))["enabled"] is True
        await elsewhere.set_enabled(code, host, False)
        assert (await _audience(here, code, viewer))["enabled"] is False
        assert desk.asked == 1
        await elsewhere.set_enabled(code, host, True)
        assert (await _audience(here, code, viewer))["enabled"] is True


# -- Redis: the record only when it changed ---------------------------------------------------


async def test_load_unless_sends_the_record_only_when_it_is_not_the_one_held(
    redis_cleanup: str,
) -> None:
    store = RedisSessionStore(connect_redis(REDIS_URL), prefix=redis_cleanup)
    try:
        assert await store.create("ABCD", b"v0", 0, 60, stamp="born-1")
        assert await store.load_unless("ABCD", 0, "born-1") is True
        assert await store.load_unless("ABCD", 1, "born-1") == (0, b"v0")
        assert await store.load_unless("ABCD", 0, "born-2") == (0, b"v0")
        assert await store.compare_and_set("ABCD", 0, 1, b"v1", 60)
        assert await store.load_unless("ABCD", 0, "born-1") == (1, b"v1")
        assert await store.load_unless("ABCD", 1, "born-1") is True  # the stamp stays
        assert await store.load_unless("NONE", 0, "born-1") is None
        await store.delete("ABCD")  # the same code again, for another room
        assert await store.create("ABCD", b"again", 1, 60, stamp="born-3")
        assert await store.load_unless("ABCD", 1, "born-1") == (1, b"again")
        assert await store.create("OLDR", b"old", 0, 60)  # no stamp: never "the one held"
        assert await store.load_unless("OLDR", 0, "") == (0, b"old")
    finally:
        await store.close()


async def test_a_snapshot_on_redis_reads_the_held_table_while_it_is_the_stored_one(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    here, there = make_service(redis_cleanup), make_service(redis_cleanup)
    try:
        code, _ = await here.create("weirsoe_lies", seed=6)
        ann, _, _ = await here.join(code, "Ann")
        viewer = Viewer("player", ann)
        first = json.loads(await here.snapshot(code, viewer))
        assert here.decoded.unchanged == 1  # the committed table, confirmed by version
        await there.join(code, "Bob")  # another process commits
        second = json.loads(await here.snapshot(code, viewer))
        assert here.decoded.unchanged == 1  # the record came, and is the newer one
        assert second["version"] > first["version"]
        _, table = await there.load(code)
        assert second["version"] == table.version
        third = json.loads(await here.snapshot(code, viewer))
        assert {**third, "ts": 0} == {**second, "ts": 0}
        assert here.decoded.unchanged == 2
    finally:
        await here.store.close()
        await there.store.close()


async def test_a_room_under_a_code_that_came_back_is_never_the_one_held(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """A room gone, and another one under the same code at the same version: a reader holding
    the first room's table gets the second room's record (their stamps differ)."""
    here, there = make_service(redis_cleanup), make_service(redis_cleanup)
    try:
        code, _ = await here.create("weirsoe_lies", seed=7)
        await here.join(code, "Ann")
        _, held = await here.read(code)
        await here.store.delete(code)
        # The other process creates a room under the same code (as a new code could come out
        # of the generator again) and brings it to the same version.
        runtime = there.runtimes["weirsoe_lies"]
        fresh = runtime.new_table(seed=8, settings=None, now=there.clock())
        fresh = runtime.join(fresh, "p-other", "Zed", there.clock()).table
        assert fresh.version == held.version
        again = SessionRecord(
            code=code,
            cartridge="weirsoe_lies",
            version=fresh.version,
            table=runtime.encode(fresh),
            host_token=hash_token("another host"),
        )
        data = there._encoder.encode(again)
        assert await there.store.create(code, data, fresh.version, 60, stamp=again.host_token)
        confirmed = here.decoded.unchanged
        _, table = await here.read(code)
        assert [p.name for p in table.players] == ["Zed"]
        assert here.decoded.unchanged == confirmed
    finally:
        await here.store.close()
        await there.store.close()


async def _next_version(events: Any) -> int:
    return int(msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"])


async def test_a_sync_on_redis_reads_the_version_the_rooms_sockets_got_without_the_store(
    redis_cleanup: str,
) -> None:
    async with two_processes(redis_cleanup) as (near, far):
        here, hub, there = near.service, near.hub, far.service
        code, _ = await there.create("weirsoe_lies", seed=10)
        sub = await hub.subscribe(here.viewer_channels(code, Viewer("audience")))
        events = sub.iter_events()
        ann, _, _ = await there.join(code, "Ann")
        assert await _next_version(events) == 1
        ann_view = Viewer("player", ann)
        first = json.loads(await here.snapshot(code, ann_view, seen=True))  # decodes it here
        assert (first["version"], here.decoded.seen) == (1, 0)
        again = json.loads(await here.snapshot(code, ann_view, seen=True))
        assert (again["version"], here.decoded.seen) == (1, 1)  # no round trip
        json.loads(await here.snapshot(code, ann_view))  # a new socket's: the store confirms
        assert (here.decoded.seen, here.decoded.unchanged) == (1, 1)

        # Messages held back on their way (pub/sub's own delay, made longer): the store is
        # at version 2, this process's sockets are still at 1.
        near.hold()
        bob, _, _ = await there.join(code, "Bob")
        lagging = json.loads(await here.snapshot(code, ann_view, seen=True))
        assert (lagging["version"], here.decoded.seen) == (1, 2)  # as new as its sockets
        # Bob is no player at version 1: his snapshot comes from the store.
        bobs = json.loads(await here.snapshot(code, Viewer("player", bob), seen=True))
        assert bobs["version"] == 2
        assert here.decoded.seen == 3  # read, found without Bob, then asked the store
        await asyncio.sleep(0.1)
        assert near.release() == 1  # Bob's join
        assert await _next_version(events) == 2
        caught_up = json.loads(await here.snapshot(code, ann_view, seen=True))
        assert (caught_up["version"], here.decoded.seen) == (2, 4)


async def test_a_hub_vouches_for_no_copy_older_than_its_subscription_nor_across_a_lost_connection(
    redis_cleanup: str,
) -> None:
    """A copy stored before the room's subscription began may be of an earlier room under the
    same code; after the pub/sub connection was lost, frames published meanwhile are lost too.
    Either way the hub vouches for nothing until the room's next frame."""
    async with two_processes(redis_cleanup) as (near, far):
        here, hub, there = near.service, near.hub, far.service
        code, _ = await there.create("weirsoe_lies", seed=11)
        before = time.monotonic_ns()
        sub = await hub.subscribe(here.viewer_channels(code, Viewer("audience")))
        events = sub.iter_events()
        await there.join(code, "Ann")
        assert await _next_version(events) == 1
        assert hub.holds(code, 1, time.monotonic_ns())
        assert not hub.holds(code, 1, before)  # stored before the subscription began
        assert not hub.holds(code, 0, time.monotonic_ns())  # not the last version sent

        await kill_pubsub(near)
        assert not hub.holds(code, 1, time.monotonic_ns())
        await near.remote.settle()
        await there.join(code, "Bob")
        assert await _next_version(events) == 2
        assert hub.holds(code, 2, time.monotonic_ns())


# -- Redis: the audience's numbers until the room's next audience.tally ----------------------


def _with_desk(process: RedisProcess) -> AudienceDesk:
    return _desk(process.service)


async def _tally(events: Any) -> dict[str, Any]:
    """The next ``audience.tally`` among a socket's events (others are skipped)."""
    while True:
        event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
        if event.get("type") == "audience.tally":
            return event  # type: ignore[no-any-return]


async def test_numbers_are_kept_until_the_rooms_next_audience_tally_where_its_frames_arrive(
    redis_cleanup: str,
) -> None:
    """Every change of the numbers, through any process, is followed by an ``audience.tally``
    frame on the room's wire channel; a process that receives the room's frames keeps its
    numbers past ``NUMBERS_FOR`` until the next such frame arrives, and asks again then."""
    async with two_processes(redis_cleanup) as (near, far):
        here, hub = near.service, near.hub
        desk = _with_desk(near)
        elsewhere = _with_desk(far)
        code, host, viewer = await _room(here, 12)
        sub = await hub.subscribe(here.viewer_channels(code, viewer))
        events = sub.iter_events()
        assert hub.progress_mark(code) is None  # no frame of the room received yet
        await elsewhere.join(code)  # a frame (the join's tally) the hub receives
        await elsewhere.flush()
        assert (await _tally(events))["members"] == 1
        assert hub.progress_mark(code) is not None
        assert (await _audience(here, code, viewer))["members"] == 1
        asked = desk.asked
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        for _ in range(3):  # past NUMBERS_FOR, and no tally since: kept
            assert (await _audience(here, code, viewer))["members"] == 1
        assert desk.asked == asked

        member, _ = await elsewhere.join(code)
        assert (await _audience(here, code, viewer))["members"] == 1  # its tally not yet out
        await elsewhere.flush()
        assert (await _tally(events))["members"] == 2
        # The tally arrived: numbers asked before it are not kept past NUMBERS_FOR.
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        assert (await _audience(here, code, viewer))["members"] == 2
        assert desk.asked == asked + 1

        # A kick is announced as well (it used to change nothing the others would see).
        await asyncio.sleep(PROGRESS_INTERVAL + 0.05)  # the room's next tally slot
        await elsewhere.kick(code, host, member)
        assert await elsewhere.flush() == 1
        await _tally(events)
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        await _audience(here, code, viewer)
        assert desk.asked == asked + 2


async def test_without_the_rooms_frames_numbers_are_kept_only_numbers_for(
    redis_cleanup: str,
) -> None:
    """No mark (no socket of the room here, or the pub/sub connection lost since its last
    frame): numbers are asked again once ``NUMBERS_FOR`` old, as without a hub."""
    async with two_processes(redis_cleanup) as (near, far):
        here, hub = near.service, near.hub
        desk = _with_desk(near)
        elsewhere = _with_desk(far)
        code, _, viewer = await _room(here, 13)
        await _audience(here, code, viewer)
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        await _audience(here, code, viewer)
        assert desk.asked == 2  # no socket here: no frames, no mark

        sub = await hub.subscribe(here.viewer_channels(code, viewer))
        events = sub.iter_events()
        await elsewhere.join(code)
        assert await elsewhere.flush() == 1
        await _tally(events)
        assert hub.progress_mark(code) is not None
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        assert (await _audience(here, code, viewer))["members"] == 1
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        await _audience(here, code, viewer)
        assert desk.asked == 3  # with the room's frames arriving: kept

        await kill_pubsub(near)
        assert hub.progress_mark(code) is None  # frames may have been lost meanwhile
        await _audience(here, code, viewer)
        await _audience(here, code, viewer)
        assert desk.asked == 4
        await asyncio.sleep(NUMBERS_FOR + 0.05)
        assert (await _audience(here, code, viewer))["members"] == 1
        assert desk.asked == 5  # no frame since: NUMBERS_FOR again
