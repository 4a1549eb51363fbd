"""The Redis parts of a process reached over a Unix socket (``--redis unix://PATH``), each on a
private ``redis-server`` that listens on a socket of its own and on no TCP port.

A Redis on the servers' own machine is cheaper to reach over its socket than over loopback
TCP (docs/performance.md, section 77). Before, the pub/sub connection refused a ``unix://``
URL, so ``weirsoe serve --redis unix://...`` stopped with a traceback, and the timer pump
went without its wake subscription."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from _redis_proc import PrivateRedis, redis_server_missing

from weirsoe_platform._redis_pubsub import RedisPubSub
from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
from weirsoe_platform.timers import RedisDeadlines, TimerWorker, make_broker

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def unix_redis() -> Iterator[PrivateRedis]:
    missing = redis_server_missing()
    if missing:
        pytest.skip(missing)
    private = PrivateRedis(unix=True)
    try:
        yield private
    finally:
        private.close()


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_pubsub_over_a_unix_socket_settles_and_delivers_in_order(
    unix_redis: PrivateRedis,
) -> None:
    assert unix_redis.url.startswith("unix://")
    got: list[tuple[bytes, bytes]] = []
    store = RedisSessionStore(connect_redis(unix_redis.url), prefix="wtest-unix")
    assert store.fast is not None  # the pipelined connection speaks the socket too
    pubsub = RedisPubSub(
        unix_redis.url, lambda channel, frame: got.append((channel, frame)), publisher=store.fast
    )
    try:
        await pubsub.start()
        assert pubsub.connected.is_set()
        pubsub.subscribe(["WTEST-UNIX:WIRE:ROOM"])
        assert await pubsub.settle()
        frames = [("WTEST-UNIX:WIRE:ROOM", b"frame %d" % i) for i in range(50)]
        await pubsub.publish_many(frames)
        await _until(lambda: len(got) == 50)
        assert got == [(ch.encode(), frame) for ch, frame in frames]
    finally:
        await pubsub.stop()
        await store.close()


async def test_a_timer_pump_hears_wakes_over_a_unix_socket(unix_redis: PrivateRedis) -> None:
    """The pump subscribes to the wake channel on the socket (it used to go without, and
    poll): a deadline that another process makes the soonest wakes it from a sleep that would
    otherwise last an hour."""
    prefix = f"wtest-{uuid.uuid4().hex[:10]}"
    redis = connect_redis(unix_redis.url)
    fired: list[str] = []

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        fired.append(code)
        return True

    worker = TimerWorker(
        deadlines=RedisDeadlines(redis, prefix=prefix, ttl=600),
        broker=make_broker(unix_redis.url, prefix=prefix),
        fire=fire,
        clock=time.time,
        poll=3600.0,
        rescan=3600.0,
        wake_url=unix_redis.url,
    )
    other = connect_redis(unix_redis.url)  # another process's deadlines: no wake in-process
    elsewhere = RedisDeadlines(other, prefix=prefix, ttl=600)
    try:
        await worker.start()
        assert worker.wakes is not None
        await _until(lambda: worker.listening and worker._waiting is not None)
        assert elsewhere.wake is None  # nothing in this process tells the pump
        await elsewhere.schedule("ROOM", "throw", 1, time.time() + 0.2)
        await _until(lambda: fired == ["ROOM"])
        assert worker.woken == 1  # its hour-long sleep was cut short by the wake channel
    finally:
        await worker.stop()
        await redis.aclose()
        await other.aclose()
