"""Quiet commits (docs/performance.md, section 82): a process that listens to a room and
delivers its own commit as the reply is read has the compare-and-set publish the commit's
frame only if another process listens too. Redis counts the listeners in the same atomic
step, and the committing process proves its own subscription with a marker channel of its
pub/sub connection, so nothing it last knew of that connection is trusted.

On the real Redis at 127.0.0.1:6379: the script, the pub/sub connection's bookkeeping, the
hub's held subscriptions, and two processes whose sockets join a room while the other one
commits quietly, which must miss nothing after their snapshot."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from _platform_env import REDIS_URL
from _redis_processes import kill_pubsub, two_processes
from redis import asyncio as aioredis

from weirsoe_platform._redis_pubsub import RedisPubSub
from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis, wire_channel
from weirsoe_platform.transport import _hub
from weirsoe_platform.transport._hub import Subscription
from weirsoe_sdk import Viewer


async def _frames(pubsub: Any, wait: float = 0.2) -> list[bytes]:
    """What ``pubsub`` (redis-py's) received, besides its subscriptions' confirmations."""
    got = []
    deadline = asyncio.get_running_loop().time() + wait
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
        if message is not None:
            got.append(message["data"])
    return got


async def test_the_script_publishes_only_for_listeners_besides_the_marker_s_process(
    redis_cleanup: str,
) -> None:
    """The compare-and-set's own count of the wire channel's subscribers decides: with the
    committing process's marker alive, it is left out of it; with its marker gone (the
    connection was lost, whatever the process thinks), it is counted as anyone else."""
    prefix = redis_cleanup
    redis = connect_redis(REDIS_URL)
    store = RedisSessionStore(redis, prefix=prefix)
    wire, marker = wire_channel(prefix, "QUIE"), f"{prefix}:LISTENER:TEST:1".upper()
    # The committing process's pub/sub connection: its marker first, then the room's channel,
    # as RedisPubSub subscribes on each connection (only the marker's name is made up here).
    own = redis.pubsub()
    other = redis.pubsub()
    again = redis.pubsub()  # that process's connection after it lost ``own``
    try:
        assert await store.create("QUIE", b"v0", 0, 60)
        await own.subscribe(marker, wire)
        version = 0

        async def commit(quiet: str | None) -> bool:
            nonlocal version
            message = (b'{"version":%d}' % (version + 1), [f"{prefix}:ROOM:QUIE".upper()])
            won = await store.compare_and_set(
                "QUIE", version, version + 1, b"v", 60, [message], quiet=quiet
            )
            version += won
            return won

        assert await commit(marker)  # only the marker's process listens: nothing published
        assert (store.unpublished, await _frames(own)) == (1, [])
        assert await commit(None)  # no marker: it listens, so it gets the frame
        assert store.unpublished == 1
        assert len(await _frames(own)) == 1

        await other.subscribe(wire)  # another process listens now
        assert await commit(marker)
        assert store.unpublished == 1
        assert len(await _frames(other)) == 1
        assert len(await _frames(own)) == 1  # the echo, which the process skips

        await other.unsubscribe(wire)
        await _frames(other)
        # The connection is lost, and the process is subscribed again on a new one with a new
        # marker: a commit still carrying the old marker was written before it knew.
        await own.aclose()
        await again.subscribe(f"{marker}:2", wire)
        assert await commit(marker)  # the marker has no subscriber: the new connection counts
        assert store.unpublished == 1
        assert len(await _frames(again)) == 1

        await again.unsubscribe(wire)
        await _frames(again)
        assert await commit(None)  # nobody listens: nothing to publish to
        assert store.unpublished == 2
        assert not await store.compare_and_set("QUIE", 0, 9, b"x", 60, [], quiet=marker)
        assert await store.load("QUIE") == (version, b"v")
    finally:
        await own.aclose()
        await other.aclose()
        await again.aclose()
        await store.close()


async def test_a_channel_is_live_only_while_redis_has_confirmed_it_on_this_connection(
    redis_prefix: str,
) -> None:
    pubsub = RedisPubSub(REDIS_URL, lambda channel, frame: None, marker_prefix=redis_prefix)
    plain = RedisPubSub(REDIS_URL, lambda channel, frame: None)
    admin = aioredis.Redis.from_url(REDIS_URL)
    wire = wire_channel(redis_prefix, "LIVE")
    try:
        await pubsub.start()
        await plain.start()
        pubsub.subscribe([wire])
        plain.subscribe([wire])
        assert pubsub.live_marker(wire) is None  # written, not confirmed yet
        assert await pubsub.settle()
        assert await plain.settle()
        marker = pubsub.live_marker(wire)
        assert marker is not None
        assert marker.startswith(f"{redis_prefix}:LISTENER:".upper())
        assert plain.live_marker(wire) is None  # made without a marker
        counts = dict(await admin.pubsub_numsub(marker, wire))
        assert counts == {marker.encode(): 1, wire.encode(): 2}
        assert pubsub.live_marker("ELSEWHERE") is None

        # Off as soon as the UNSUBSCRIBE is written; a new SUBSCRIBE is live once confirmed.
        pubsub.unsubscribe([wire])
        assert pubsub.live_marker(wire) is None
        pubsub.subscribe([wire])
        assert pubsub.live_marker(wire) is None
        assert await pubsub.settle()
        assert pubsub.live_marker(wire) == marker

        # A lost connection: a new marker, with the channels subscribed again behind it.
        await kill_pubsub(pubsub)
        assert await pubsub.settle()
        again = pubsub.live_marker(wire)
        assert again is not None
        assert again != marker
        assert dict(await admin.pubsub_numsub(marker, again)) == {
            marker.encode(): 0,
            again.encode(): 1,
        }
    finally:
        await pubsub.stop()
        await plain.stop()
        await admin.aclose()
    assert pubsub.live_marker(wire) is None


async def test_a_room_stays_subscribed_while_a_quiet_commit_counts_on_it(
    redis_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last socket of a room leaves while a quiet compare-and-set of the room is on its
    way: the UNSUBSCRIBE waits for its reply (after a failure, for a grace period), since
    the script counts this process out of the room's listeners only while it listens."""
    async with two_processes(redis_cleanup) as (near, _):
        service, hub = near.service, near.hub
        remote = near.remote
        code, _ = await service.create("weirsoe_lies")
        wire = hub.wire(code)
        sub = await hub.subscribe(service.channels(code, "everyone"))
        events = sub.iter_events()
        await service.join(code, "Ann")  # its echo tells the hub the room's version
        assert msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"] == 1
        assert hub.quiet(code, 0) is None  # not the version its sockets got
        marker = hub.quiet(code, 1)
        assert marker is not None
        assert marker == remote.live_marker(wire)

        await hub.unsubscribe(sub)
        assert wire in remote.channels  # held for the commit on its way
        assert hub.quiet(code, 1) is None  # no socket here any more
        hub.quiet_done(code)
        assert wire not in remote.channels

        # A socket that comes back meanwhile takes the subscription over as it is.
        sub = await hub.subscribe(service.channels(code, "everyone"))
        assert await service.join(code, "Bob")  # echoed (no version known since): version 2
        events = sub.iter_events()
        assert msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"] == 2
        assert hub.quiet(code, 2) == marker
        await hub.unsubscribe(sub)
        sub = await hub.subscribe(service.channels(code, "everyone"))
        hub.quiet_done(code)
        assert remote.live_marker(wire) == marker  # never unsubscribed
        assert hub.quiet(code, 2) is None  # the new socket's version is not known yet
        await service.join(code, "Cy")  # echoed: version 3
        events = sub.iter_events()
        assert msgspec.json.decode(await asyncio.wait_for(anext(events), 5))["version"] == 3

        # No reply (an error, a timeout): Redis may still run it, so the hold lasts a while.
        monkeypatch.setattr(_hub, "QUIET_GRACE", 0.2)
        assert hub.quiet(code, 3) == marker
        await hub.unsubscribe(sub)
        hub.quiet_done(code, failed=True)
        assert wire in remote.channels
        await asyncio.sleep(0.4)
        assert wire not in remote.channels
        assert hub.stats() == {"channels": 0, "rooms": 0, "versions": 0}


async def _versions(sub: Subscription, upto: int) -> list[int]:
    """The versions of ``sub``'s frames that carry one, until ``upto``."""
    events = sub.iter_events()
    seen: list[int] = []
    while not seen or seen[-1] < upto:
        event = msgspec.json.decode(await asyncio.wait_for(anext(events), 5))
        if "version" in event:
            seen.append(event["version"])
    return seen


async def test_a_process_that_joins_a_quiet_room_misses_nothing_after_its_snapshot(
    redis_cleanup: str,
) -> None:
    """``near`` commits a room's changes quietly while it alone listens. ``far``'s sockets
    join while ``near`` keeps committing, each reading its snapshot after its subscription
    settled, as a socket does: every version after the snapshot reaches each of them, in
    order, once; and ``near``'s own socket gets every version."""
    async with two_processes(redis_cleanup) as (near, far):
        here = near.service
        code, _ = await here.create("weirsoe_lies", seed=3)
        mine = await near.hub.subscribe(here.channels(code, "everyone"))
        players = [(await here.join(code, f"P{i}"))[0] for i in range(8)]
        flips = 6

        async def keep_committing() -> None:
            for _ in range(flips):
                for pid in players:
                    await here.presence(code, pid, True)  # joined over REST: not connected
                    await here.presence(code, pid, False)
                    await asyncio.sleep(0)

        async def join_far(delay: float) -> tuple[int, Subscription]:
            await asyncio.sleep(delay)
            viewer = Viewer("audience")
            sub = await far.hub.subscribe(far.service.viewer_channels(code, viewer))
            snapshot = msgspec.json.decode(await far.service.snapshot(code, viewer))
            return snapshot["version"], sub

        committing = asyncio.create_task(keep_committing())
        joined = await asyncio.gather(*(join_far(0.01 * i) for i in range(8)))
        await committing
        last = 8 + flips * len(players) * 2
        _, table = await here.load(code)
        assert table.version == last
        assert await _versions(mine, last) == list(range(1, last + 1))
        assert near.service.store.unpublished > 0, "nothing was quiet before far listened"  # type: ignore[attr-defined]
        assert any(first < last for first, _ in joined), "every far socket joined too late"
        for first, sub in joined:
            if first < last:
                # Frames that raced the snapshot come first (a socket drops those up to its
                # snapshot's version); from there on, every version once, in order.
                seen = await _versions(sub, last)
                assert seen == list(range(seen[0], last + 1))
                assert seen[0] <= first + 1
        await asyncio.sleep(0.1)
        assert all(sub.qsize == 0 for _, sub in joined)


async def test_a_commit_is_published_when_its_process_lost_the_connection_that_vouched(
    redis_cleanup: str,
) -> None:
    """Redis drops ``near``'s pub/sub connection, and ``near`` has not read the close yet (a
    busy process): its hub still vouches with that connection's marker. The marker has no
    subscriber any more, so the script counts ``far``, the one listener left, and publishes
    the commit to it."""
    async with two_processes(redis_cleanup) as (near, far):
        here = near.service
        code, _ = await here.create("weirsoe_lies", seed=4)
        await near.hub.subscribe(here.channels(code, "everyone"))
        ann, _, _ = await here.join(code, "Ann")
        await asyncio.sleep(0.1)  # the echo: near knows version 1 went to its sockets
        theirs = await far.hub.subscribe(far.service.channels(code, "everyone"))
        wire = near.hub.wire(code)
        marker = near.remote.live_marker(wire)
        assert marker is not None

        writer = near.remote._writer
        assert writer is not None
        writer.transport.pause_reading()  # the close waits unread in the socket
        host, port = writer.get_extra_info("sockname")[:2]
        admin = aioredis.Redis.from_url(REDIS_URL)
        try:
            assert await admin.client_kill_filter(_type=None, addr=f"{host}:{port}") == 1
            for _ in range(100):  # until Redis has dropped the connection's subscriptions
                if dict(await admin.pubsub_numsub(marker))[marker.encode()] == 0:
                    break
                await asyncio.sleep(0.01)
            assert dict(await admin.pubsub_numsub(marker, wire)) == {
                marker.encode(): 0,
                wire.encode(): 1,
            }
            assert near.remote.live_marker(wire) == marker  # as far as near knows
            vouched = near.hub.quiets
            await here.presence(code, ann, True)
            assert near.hub.quiets == vouched + 1  # sent with the dead connection's marker
            assert await _versions(theirs, 2) == [2]
            assert here.store.unpublished == 0  # type: ignore[attr-defined]
        finally:
            await admin.aclose()
            writer.transport.resume_reading()
        await asyncio.wait_for(near.remote.connected.wait(), 5)  # it reconnects, as ever
