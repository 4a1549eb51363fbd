"""The Redis store, deadlines and service against the real Redis: races and key lifecycle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable

import msgspec
import pytest
from _platform_env import REDIS_URL
from _redis_processes import two_processes

from weirsoe_platform._redis_pubsub import RedisPubSub
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.sessions import MemorySessionStore, SessionService
from weirsoe_platform.sessions._frames import encode_frame
from weirsoe_platform.sessions._redis_store import (
    EXISTING_CHUNK,
    RedisSessionStore,
    connect_redis,
    wire_channel,
)
from weirsoe_platform.timers import LocalDeadlines, RedisDeadlines
from weirsoe_platform.transport import Hub
from weirsoe_platform.transport._hub import Subscription
from weirsoe_sdk import InvalidAction, discover_cartridges

DISCOVERY = discover_cartridges()


def test_only_a_store_that_publishes_may_go_without_a_publisher() -> None:
    # The Redis store publishes inside its compare-and-set (make_service passes no publisher);
    # the memory store does not, so a service over it without a publisher is refused up front.
    with pytest.raises(TypeError, match="MemorySessionStore does not publish"):
        SessionService(
            cartridges=DISCOVERY,
            store=MemorySessionStore(),
            deadlines=LocalDeadlines(),
            settings=PlatformSettings(),
        )


async def test_compare_and_set_has_exactly_one_winner(redis_cleanup: str) -> None:
    stores = [RedisSessionStore(connect_redis(REDIS_URL), prefix=redis_cleanup) for _ in range(8)]
    assert await stores[0].create("ABCD", b"v0", 0, 60)
    assert not await stores[1].create("ABCD", b"other", 0, 60)
    for version in range(30):
        results = await asyncio.gather(
            *(
                s.compare_and_set("ABCD", version, version + 1, b"w%d" % i, 60)
                for i, s in enumerate(stores)
            )
        )
        assert results.count(True) == 1
        loaded = await stores[0].load("ABCD")
        assert loaded is not None
        assert loaded[0] == version + 1
    for s in stores:
        await s.close()


async def test_two_services_racing_one_deadline_make_one_transition(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    first, second = make_service(redis_cleanup), make_service(redis_cleanup)
    code, host = await first.create("rps", {"throw_seconds": 30})
    await first.join(code, "A")
    await first.join(code, "B")
    await first.control(code, host, "play")
    _, table = await first.load(code)
    assert table.deadline is not None
    before = table.version
    d = table.deadline
    fired = await asyncio.gather(
        *(svc.fire(code, d.key, d.serial, d.at) for svc in (first, second) for _ in range(5))
    )
    assert fired.count(True) == 1
    _, after = await second.load(code)
    assert after.version == before + 1
    assert after.state.round == 2
    # A late duplicate of the same deadline changes nothing.
    assert await second.fire(code, d.key, d.serial, d.at) is False


async def test_every_key_carries_a_ttl_and_exit_removes_all(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    service = make_service(redis_cleanup)
    code, host = await service.create("weirsoe_lies")
    await service.join(code, "A")
    await service.join(code, "B")
    await service.control(code, host, "play")
    redis = service.store.redis  # type: ignore[attr-defined]
    keys = [k async for k in redis.scan_iter(f"{redis_cleanup}:*")]
    assert {k.decode().split(":")[1] for k in keys} >= {"session", "deadline", "deadlines"}
    for key in keys:
        assert await redis.pttl(key) > 0, key
    await service.control(code, host, "exit")
    left = [k async for k in redis.scan_iter(f"{redis_cleanup}:*")]
    assert left == []


async def test_lobby_key_ttl_follows_the_lifecycle(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    service = make_service(redis_cleanup)
    code, _ = await service.create("rps")
    ttl = await service.store.redis.ttl(f"{redis_cleanup}:session:{code}")  # type: ignore[attr-defined]
    assert 7000 < ttl <= 7200


async def test_claim_leases_and_complete_only_removes_the_same_deadline(redis_cleanup: str) -> None:
    deadlines = RedisDeadlines(connect_redis(REDIS_URL), prefix=redis_cleanup, ttl=60)
    now = time.time()
    await deadlines.schedule("ROOM", "q0:lie", 5, now - 0.01)
    await deadlines.schedule("LATER", "q0:lie", 1, now + 60)
    claimed = await deadlines.claim(now)
    assert claimed == [("ROOM", "q0:lie", 5, pytest.approx(now - 0.01))]
    assert await deadlines.claim(now) == []  # leased: another pump does not take it now
    assert [c[0] for c in await deadlines.claim(now + 3)] == ["ROOM"]  # lease ran out
    await deadlines.schedule("ROOM", "q0:guess", 6, now + 1)
    assert await deadlines.complete("ROOM", "q0:lie", 5, now - 0.01) is False
    assert await deadlines.pending() == 2
    assert await deadlines.complete("ROOM", "q0:guess", 6, now + 1) is True
    assert await deadlines.pending() == 1


async def test_concurrent_store_calls_share_a_pipeline_and_keep_their_own_replies(
    redis_cleanup: str,
) -> None:
    store = RedisSessionStore(connect_redis(REDIS_URL), prefix=redis_cleanup)
    codes = [f"R{i:03d}" for i in range(40)]
    for code in codes:
        assert await store.create(code, b"v0", 0, 60)
    # Half the compare-and-sets expect the right version, half a wrong one; loads in between.
    calls = [
        store.compare_and_set(code, 0 if i % 2 else 7, 1, b"v1-" + code.encode(), 60)
        for i, code in enumerate(codes)
    ]
    results = await asyncio.gather(*calls, store.load("R001"), store.load("NONE"))
    assert results[:-2] == [bool(i % 2) for i in range(len(codes))]
    assert results[-2] in ((0, b"v0"), (1, b"v1-R001"))  # same turn: before or after its CAS
    assert results[-1] is None
    assert store.fast is not None  # on the auto-pipelining connection (test_platform_resp.py)
    for i, code in enumerate(codes):
        assert await store.load(code) == ((1, b"v1-" + code.encode()) if i % 2 else (0, b"v0"))
    await store.close()


async def test_compare_and_set_loads_its_script_again_after_redis_lost_it(
    redis_cleanup: str,
) -> None:
    store = RedisSessionStore(connect_redis(REDIS_URL), prefix=redis_cleanup)
    for code in ("AAAA", "BBBB"):
        assert await store.create(code, b"v0", 0, 60)
    await store.redis.script_flush()  # what a restart without persistence does
    assert await asyncio.gather(
        store.compare_and_set("AAAA", 0, 1, b"a1", 60),
        store.compare_and_set("BBBB", 0, 1, b"b1", 60),
    ) == [True, True]
    await store.redis.script_flush()
    assert await store.compare_and_set("AAAA", 1, 2, b"a2", 60)
    assert await store.load("AAAA") == (2, b"a2")
    assert await store.load("BBBB") == (1, b"b1")
    await store.close()


@pytest.mark.parametrize("pipelined", [True, False], ids=["pipelined", "redis-py"])
async def test_existing_names_exactly_the_live_rooms_past_a_chunk(
    redis_cleanup: str, pipelined: bool
) -> None:
    # The room watch's question, over more codes than one script takes (EXISTING_CHUNK):
    # every third room is missing, including the chunk's first and last positions.
    store = RedisSessionStore(connect_redis(REDIS_URL), prefix=redis_cleanup, pipelined=pipelined)
    assert (store.fast is not None) is pipelined
    codes = [f"E{i:04d}" for i in range(EXISTING_CHUNK + 5)]
    live = {code for i, code in enumerate(codes) if i % 3 != 0 and i != EXISTING_CHUNK - 1}
    for code in sorted(live):
        assert await store.create(code, b"v0", 0, 60)
    assert await store.existing(codes) == live
    assert await store.existing(codes[:1]) == set()
    assert await store.existing([]) == set()
    await store.delete(codes[1])
    assert await store.existing(codes[:3]) == {codes[2]}
    await store.close()


async def test_store_errors_when_redis_is_unreachable() -> None:
    from weirsoe_platform.sessions import StoreUnavailable

    store = RedisSessionStore(connect_redis("redis://127.0.0.1:1/0"), prefix="x")
    with pytest.raises(StoreUnavailable):
        await store.load("ABCD")
    assert await store.ping() is False


def test_records_are_msgpack() -> None:
    from weirsoe_platform.sessions import SessionRecord

    record = SessionRecord(code="ABCD", cartridge="rps", version=1, table=b"x", host_token="h")
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(record), type=SessionRecord) == record


def _hub(prefix: str) -> Hub:
    hub = Hub(channel_prefix=f"{prefix}:", wire_prefix=f"{prefix}:")
    hub.remote = RedisPubSub(REDIS_URL, hub.on_wire_message, publisher=None)
    return hub


async def test_settle_returns_only_once_redis_has_the_subscription(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A socket reads its snapshot after ``subscribe`` (which settles); a frame published right
    after that must reach it: Redis already counts this process as a listener."""
    client = connect_redis(REDIS_URL)
    hub = _hub(redis_prefix)
    await hub.start()
    try:
        room = f"{redis_prefix}:ROOM:ABCD".upper()
        sub = await hub.subscribe([room])
        frame = encode_frame([(b"after the snapshot", [room])])
        assert await client.publish(wire_channel(redis_prefix, "ABCD"), frame) == 1
        events = sub.iter_events()
        assert await asyncio.wait_for(anext(events), 5) == b"after the snapshot"
        await hub.unsubscribe(sub, [room])
        # Subscribed to nothing now, the connection is out of pub/sub mode and Redis answers
        # PING with the bare token: settle still sees its confirmation (on a timeout it
        # would warn that Redis did not confirm).
        with caplog.at_level(logging.WARNING, logger="weirsoe.channels"):
            await hub.remote.settle()  # type: ignore[union-attr]
        assert not [r for r in caplog.records if "did not confirm" in r.getMessage()]
        assert await client.publish(wire_channel(redis_prefix, "ABCD"), frame) == 0
    finally:
        await hub.stop()
        await client.aclose()


async def test_private_messages_in_a_frame_reach_only_their_socket(redis_prefix: str) -> None:
    """A wire frame carries a whole transition; the hub hands each message only to the
    sockets of its own channels, in order."""
    hub = _hub(redis_prefix)
    await hub.start()
    client = connect_redis(REDIS_URL)
    try:
        room = f"{redis_prefix}:ROOM:WXYZ".upper()
        p1, p2 = (f"{redis_prefix}:PLAYER:WXYZ:{p}".upper() for p in ("a1", "b2"))
        s1 = await hub.subscribe([room, p1])
        s2 = await hub.subscribe([room, p2])
        frame = encode_frame([(b"secret for a1", [p1]), (b"to all", [room]), (b"b2", [p2])])
        await client.publish(wire_channel(redis_prefix, "WXYZ"), frame)
        e1, e2 = s1.iter_events(), s2.iter_events()
        assert [await asyncio.wait_for(anext(e1), 5) for _ in range(2)] == [
            b"secret for a1",
            b"to all",
        ]
        assert [await asyncio.wait_for(anext(e2), 5) for _ in range(2)] == [b"to all", b"b2"]
        assert s1.qsize == 0
        assert s2.qsize == 0
    finally:
        await hub.stop()
        await client.aclose()


async def test_the_reader_resubscribes_after_redis_drops_it(redis_prefix: str) -> None:
    client = connect_redis(REDIS_URL)
    hub = _hub(redis_prefix)
    await hub.start()
    try:
        room = f"{redis_prefix}:ROOM:QRST".upper()
        sub = await hub.subscribe([room])
        await client.client_kill_filter(_type="pubsub", skipme=True)
        wire = wire_channel(redis_prefix, "QRST")
        frame = encode_frame([(b"after the drop", [room])])
        for _ in range(100):  # bounded: the reader reconnects within a second or two
            await asyncio.sleep(0.05)
            if await client.publish(wire, frame) == 1:
                break
        events = sub.iter_events()
        assert await asyncio.wait_for(anext(events), 5) == b"after the drop"
    finally:
        await hub.stop()
        await client.aclose()


async def test_two_processes_racing_on_one_room_make_one_transition_per_version(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
) -> None:
    """Each service caches the record it committed last and tries the next change on it
    without a load; the compare-and-set still lets exactly one writer have each version, and
    the room's wire channel carries every version once, in order."""
    first, second = make_service(redis_cleanup), make_service(redis_cleanup)
    code, _ = await first.create("weirsoe_lies")
    hub = _hub(redis_cleanup)
    await hub.start()
    try:
        sub = await hub.subscribe([f"{redis_cleanup}:ROOM:{code}".upper()])
        joins = await asyncio.gather(
            *(svc.join(code, f"P{i}") for i, svc in enumerate([first, second] * 4))
        )
        assert len({pid for pid, _, _ in joins}) == 8

        # Both now hold a cached copy; the other's commits make it stale over and over.
        async def flip(svc: SessionService, pid: str) -> None:
            for connected in (True, False, True):  # in order for one player…
                await svc.presence(code, pid, connected)

        # …and all players at once, half of them through each process.
        await asyncio.gather(
            *(flip(svc, pid) for svc, (pid, _, _) in zip([first, second] * 4, joins, strict=True))
        )
        _, table = await first.load(code)
        assert table.version == 8 + 3 * 8  # every join and every presence flip, once each
        events = sub.iter_events()
        versions = [
            msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"]
            for _ in range(table.version)
        ]
        assert versions == list(range(1, table.version + 1))
        assert first.cache.hits + second.cache.hits > 0  # the cache was used…
        assert first.cache.stale + second.cache.stale > 0  # …and overtaken, and recovered
    finally:
        await hub.stop()
        await first.store.close()
        await second.store.close()


async def test_snapshots_share_one_decode_per_version_and_never_lag_the_store(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
) -> None:
    """Players asking for a snapshot of a version this process committed read the committed
    table, decoded by nobody; once another process commits, the next snapshot here shows that
    version (decoded once), not the copy."""
    from weirsoe_sdk import Viewer

    here, there = make_service(redis_cleanup), make_service(redis_cleanup)
    try:
        code, _ = await here.create("weirsoe_lies")
        players = [await here.join(code, f"P{i}") for i in range(3)]
        viewers = [Viewer("player", pid) for pid, _, _ in players]
        before = here.decoded.hits
        snaps = [msgspec.json.decode(await here.snapshot(code, v)) for v in viewers]
        assert {s["version"] for s in snaps} == {3}
        assert [s["player_id"] for s in snaps] == [v.player_id for v in viewers]
        assert here.decoded.hits - before == 3  # the commit's own table, for all three
        await there.join(code, "Late")  # another process commits version 4
        again = msgspec.json.decode(await here.snapshot(code, viewers[0]))
        assert again["version"] == 4
        assert "Late" in [p["name"] for p in again["players"]]
        hits = here.decoded.hits
        await here.snapshot(code, viewers[1])
        assert here.decoded.hits == hits + 1  # version 4, decoded here once, then shared
    finally:
        await here.store.close()
        await there.store.close()


async def test_a_process_delivers_its_own_commits_at_once_and_every_socket_sees_each_version_once(
    redis_cleanup: str,
) -> None:
    """Two processes, each with its sockets on one room, commit racing inputs. Each delivers
    its own commit at once when the version before it has already reached its sockets, and
    skips Redis's echo of it; otherwise the echo delivers it. Every socket of both still sees
    every version exactly once, in order."""
    prefix = redis_cleanup
    hubs = [_hub(prefix), _hub(prefix)]
    services = []
    for hub in hubs:
        settings = PlatformSettings(redis_url=REDIS_URL, redis_prefix=prefix)
        redis = connect_redis(REDIS_URL)
        services.append(
            SessionService(
                cartridges=DISCOVERY,
                store=RedisSessionStore(redis, prefix=prefix),
                publisher=hub,
                deadlines=RedisDeadlines(redis, prefix=prefix, ttl=settings.game_ttl),
                settings=settings,
                channel_prefix=f"{prefix}:",
            )
        )
        await hub.start()
    first = services[0]
    try:
        code, _ = await first.create("weirsoe_lies")
        room = f"{prefix}:ROOM:{code}".upper()
        subs = [await hub.subscribe([room]) for hub in hubs for _ in range(2)]
        joins = []
        for i in range(8):  # one at a time: both processes learn every version in turn
            joins.append(await services[i % 2].join(code, f"P{i}"))

        async def flip(svc: SessionService, pid: str) -> None:
            for connected in (True, False, True, False):
                await svc.presence(code, pid, connected)

        await asyncio.gather(
            *(flip(svc, pid) for svc, (pid, _, _) in zip(services * 4, joins, strict=True))
        )
        _, table = await first.load(code)
        assert table.version == 8 + 4 * 8
        for sub in subs:
            events = sub.iter_events()
            versions = [
                msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"]
                for _ in range(table.version)
            ]
            assert versions == list(range(1, table.version + 1))
        await asyncio.sleep(0.2)  # the last echoes arrive, and are skipped
        assert all(sub.qsize == 0 for sub in subs)  # no version twice
        own = [hub.own for hub in hubs]
        assert sum(own) > 0, "no commit was delivered at commit time"
        assert [hub.echoes for hub in hubs] == own  # each one's echo was skipped, once
        for hub, pair in zip(hubs, (subs[:2], subs[2:]), strict=True):
            for sub in pair:
                await hub.unsubscribe(sub, [room])
            assert hub.stats() == {"channels": 0, "rooms": 0, "versions": 0}
    finally:
        for hub in hubs:
            await hub.stop()
        for svc in services:
            await svc.store.close()


@pytest.mark.parametrize("listening", [True, False], ids=["another listens", "alone"])
@pytest.mark.parametrize("pipelined", [True, False])
async def test_a_commit_reaches_this_process_sockets_as_its_reply_is_read(
    redis_cleanup: str, pipelined: bool, listening: bool
) -> None:
    """On the pipelined connection, a won compare-and-set is delivered to this process's
    sockets from the callback that reads its reply (no task runs there), while the committing
    call still waits to resume, and the record is already remembered for the room's next
    transition and for snapshots. On redis-py's client (a TLS address) the committing task
    delivers it after its await, as before. Either way the socket gets the version once.
    Redis publishes it for the other process that listens to the room, and this one skips
    its echo; with no other listener, it publishes nothing (a quiet commit)."""
    async with two_processes(redis_cleanup) as (near, far):
        service, hub = near.service, near.hub
        store = service.store
        assert isinstance(store, RedisSessionStore)
        if not pipelined:
            service.store = store = RedisSessionStore(
                store.redis, prefix=redis_cleanup, pipelined=False
            )
        code, _ = await service.create("weirsoe_lies")
        sub = await hub.subscribe(service.channels(code, "everyone"))
        if listening:
            await far.hub.subscribe(service.channels(code, "everyone"))
        events = sub.iter_events()
        await service.join(code, "Ann")  # version 1 reaches the hub: it knows what comes next
        assert msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"] == 1
        own = hub.own
        deliver = hub.deliver_committed
        seen: list[tuple[bool, bool, int | None, bool]] = []
        joining: asyncio.Future[object] | None = None

        def spy(
            room: str,
            expected: int,
            messages: list[tuple[bytes, list[str]]],
            then: Callable[[], None] | None = None,
        ) -> bool:
            known = service.decoded.known(room)
            assert joining is not None
            seen.append(
                (
                    asyncio.current_task() is None,
                    joining.done(),
                    None if known is None else known[0],
                    service.cache.get(room) is not None,
                )
            )
            return deliver(room, expected, messages, then)

        service._deliver_committed = spy
        near.hold()  # Redis's echo waits: only the commit itself can deliver version 2
        joining = asyncio.ensure_future(service.join(code, "Bob"))
        await joining
        assert seen == [(pipelined, False, 2, True)]
        event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
        assert event["version"] == 2
        assert hub.own == own + 1
        await asyncio.sleep(0.2)
        if listening:
            assert near.release() >= 1  # the echo, now skipped
            assert (store.unpublished, hub.quiets) == (0, 1)
        else:
            assert near.release() == 0  # nothing was published: no echo
            assert (store.unpublished, hub.quiets) == (1, 1)
        assert sub.qsize == 0


async def _playing_rps(
    service: SessionService, hub: Hub
) -> tuple[str, list[str], Subscription, AsyncGenerator[bytes, None], int]:
    """A room of rock-paper-scissors with three players, started, and a socket's subscription
    on this process whose hub has seen the start through Redis (so it knows what comes next)
    and whose backlog is empty: the code, the players, the subscription, its events and the
    started version."""
    code, host = await service.create("rps", {"rounds": 3, "throw_seconds": 60})
    players = [(await service.join(code, f"P{i}"))[0] for i in range(3)]
    sub = await hub.subscribe(service.channels(code, "everyone"))
    events = sub.iter_events()
    await service.control(code, host, "play")
    started, _ = await service.load(code)
    while True:
        event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
        if event["version"] == started.version:
            break
    for _ in range(sub.qsize):  # the start's other events
        await anext(events)
    return code, players, sub, events, started.version


class _Acks:
    """``act(acked=...)``: each call's (no task running, the acting call done, the version,
    events queued on ``sub`` by then)."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self.acting: asyncio.Future[object] | None = None
        self.told: list[tuple[bool, bool, int, int]] = []

    def __call__(self, step: object) -> None:
        assert self.acting is not None
        now = step.table.version  # type: ignore[attr-defined]
        self.told.append((asyncio.current_task() is None, self.acting.done(), now, self.sub.qsize))


async def test_an_action_is_acknowledged_as_its_commit_is_read(redis_cleanup: str) -> None:
    """On Redis, an action that changed the room is acknowledged (``act(acked=...)``) from
    the callback that reads its compare-and-set's reply, right after the commit's messages
    went to this process's sockets and before the acting call resumes. Where they did not go
    out at once (the hub still waits for an earlier version from another process), and for
    an action that was refused, the callback is not called: the caller answers on return."""
    async with two_processes(redis_cleanup) as (near, far):
        service, hub = near.service, near.hub
        code, (p0, p1, p2), sub, events, version = await _playing_rps(service, hub)
        acked = _Acks(sub)
        told = acked.told

        near.hold()  # Redis's echo waits: only the commit itself can deliver it
        acting = acked.acting = asyncio.ensure_future(
            service.act(code, p0, {"type": "throw", "move": "rock"}, "m0", acked=acked)
        )
        step = await acting
        assert [entry[:3] for entry in told] == [(True, False, version + 1)], (
            "acknowledged from the reply's callback, before the acting call resumed"
        )
        queued = told[0][3]
        assert queued >= 1, "the commit's events were queued before the acknowledgement"
        for _ in range(queued):
            event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
            assert event["version"] == step.table.version  # type: ignore[attr-defined]

        with pytest.raises(InvalidAction):  # refused: nothing to acknowledge early
            await service.act(code, p0, {"type": "throw", "move": "paper"}, "m1", acked=acked)
        assert len(told) == 1

        # Another process commits while this one's pub/sub is held: this hub's last version
        # is behind, so the next commit here waits for that frame, and so does its answer.
        await far.service.act(code, p1, {"type": "throw", "move": "paper"})
        acting = acked.acting = asyncio.ensure_future(
            service.act(code, p2, {"type": "throw", "move": "scissors"}, "m2", acked=acked)
        )
        late = await acting
        assert len(told) == 1, "not acknowledged ahead of the version before it"
        assert late.table.version == version + 3  # type: ignore[attr-defined]
        near.release()
        versions = [
            msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"]
            for _ in range(2)
        ]
        assert versions == [version + 2, version + 3]


async def test_an_action_whose_echo_is_read_first_is_acknowledged_as_its_reply_is_read(
    redis_cleanup: str,
) -> None:
    """Redis sends a commit's echo on the pub/sub connection and the script's reply on another,
    and a busy process often reads both in one turn, the echo first. The echo delivers the
    commit's messages; the reply's callback then still acknowledges the action (they have
    reached the sockets) instead of leaving it to the acting call's return. (An echo comes
    only where another process listens to the room: else the commit is quiet.)"""
    async with two_processes(redis_cleanup) as (near, far):
        service, hub = near.service, near.hub
        code, (p0, _, _), sub, events, version = await _playing_rps(service, hub)
        await far.hub.subscribe(service.channels(code, "everyone"))
        store = service.store
        assert isinstance(store, RedisSessionStore)
        assert store.fast is not None
        conn = await store.fast._connection()
        acked = _Acks(sub)
        told = acked.told

        conn.transport.pause_reading()  # the reply waits in the socket; the echo does not
        acting = acked.acting = asyncio.ensure_future(
            service.act(code, p0, {"type": "throw", "move": "rock"}, "m0", acked=acked)
        )
        for _ in range(500):
            if sub.qsize:
                break
            await asyncio.sleep(0.01)
        assert sub.qsize >= 1, "the echo delivered the commit's events"
        assert not told
        assert not acting.done()
        conn.transport.resume_reading()
        step = await acting
        assert told == [(True, False, version + 1, told[0][3])], (
            "acknowledged from the reply's callback, before the acting call resumed"
        )
        assert told[0][3] >= 1, "after the commit's events"
        assert hub.read_first == 1
        event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
        assert event["version"] == step.table.version  # type: ignore[attr-defined]
