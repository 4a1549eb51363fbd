"""Redis timer workers against the real Redis: bursts fired in batches, by the pump itself up to
``TASKS`` chunks and through the stream beyond that, and a worker that dies holding a batch, either
way, loses no deadline.

The workers here run on a clock 60 s ahead of the rooms' (rps rooms with 30 s throws), so
every deadline is due as soon as a worker starts; nothing waits for a real deadline.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from _platform_env import REDIS_URL
from _redis_processes import kill_pubsub

from weirsoe_platform._redis_pubsub import RedisPubSub
from weirsoe_platform._resp import PipelinedRedis
from weirsoe_platform.sessions import SessionService
from weirsoe_platform.sessions._redis_store import connect_redis, wake_channel
from weirsoe_platform.timers import RedisDeadlines, TimerWorker, make_broker
from weirsoe_platform.timers._redis import (
    AFFINITY,
    CHUNK,
    GATHER,
    LEASE,
    POLL,
    RESCAN,
    TASKS,
    Due,
)
from weirsoe_sdk import discover_cartridges

DISCOVERY = discover_cartridges()
AHEAD = 60.0


def ahead() -> float:
    return time.time() + AHEAD


async def running_rooms(service: SessionService, count: int) -> dict[str, tuple[int, Due]]:
    """``count`` one-round rps rooms, each running with a 30 s deadline: for each room code,
    its version and its deadline."""

    async def one() -> str:
        code, host = await service.create("rps", {"rounds": 1, "throw_seconds": 30})
        await service.join(code, "A")
        await service.join(code, "B")
        await service.control(code, host, "play")
        return code

    codes: list[str] = []
    for start in range(0, count, 50):
        codes += await asyncio.gather(*(one() for _ in range(start, min(count, start + 50))))
    rooms = {}
    for code in codes:
        _, table = await service.load(code)
        d = table.deadline
        assert table.status == "running"
        assert d is not None
        rooms[code] = (table.version, (code, d.key, d.serial, d.at))
    return rooms


@asynccontextmanager
async def timer_worker(
    prefix: str,
    fire: Callable[[str, str, int, float], Awaitable[bool]],
    clock: Callable[[], float] = ahead,
    fire_claims: bool = True,
    deadlines: RedisDeadlines | None = None,
    poll: float = POLL,
    wakes: bool = False,
    rescan: float = RESCAN,
) -> AsyncIterator[TimerWorker]:
    """A worker on the real Redis; on ``deadlines`` if given (a service's own, as in `serve
    --with-worker`), else on deadlines of its own."""
    redis = connect_redis(REDIS_URL)
    worker = TimerWorker(
        deadlines=deadlines or RedisDeadlines(redis, prefix=prefix, ttl=600),
        broker=make_broker(REDIS_URL, prefix=prefix),
        fire=fire,
        clock=clock,
        fire_claims=fire_claims,
        poll=poll,
        wake_url=REDIS_URL if wakes else None,
        rescan=rescan,
    )
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        await redis.aclose()


async def until(check: Callable[[], Any], timeout: float = 30.0) -> None:
    """Wait for ``check()`` (a bool, or an awaitable of one) to hold."""
    end = time.monotonic() + timeout
    while not await _value(check()):
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.05)


async def all_over(service: SessionService, codes: list[str]) -> bool:
    for code in codes:
        _, table = await service.load(code)
        if table.status != "over":
            return False
    return True


async def _value(result: Any) -> bool:
    return bool(await result) if inspect.isawaitable(result) else bool(result)


async def assert_fired_once(service: SessionService, before: dict[str, tuple[int, Due]]) -> None:
    """Each room took exactly one transition, the deadline's, and no deadline is left."""
    for code, (version, _) in before.items():
        _, table = await service.load(code)
        assert (table.status, table.version, table.deadline) == ("over", version + 1, None), code
    redis = service.store.redis  # type: ignore[attr-defined]
    prefix = service.store.prefix  # type: ignore[attr-defined]
    assert await redis.zcard(f"{prefix}:deadlines") == 0
    assert [k async for k in redis.scan_iter(f"{prefix}:deadline:*")] == []


@pytest.mark.parametrize("fire_claims", [True, False], ids=["pump-fires", "stream-only"])
async def test_a_burst_fires_every_deadline_once_in_batches(
    redis_cleanup: str, make_service: Callable[[str], SessionService], fire_claims: bool
) -> None:
    service = make_service(redis_cleanup)
    rooms = 200
    before = await running_rooms(service, rooms)
    calls: Counter[str] = Counter()

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        calls[code] += 1
        return await service.fire(code, key, serial, at)

    async with timer_worker(redis_cleanup, fire, fire_claims=fire_claims) as worker:
        await until(lambda: all_over(service, list(before)))
        await until(lambda: worker.fired >= rooms)
        await assert_fired_once(service, before)
        assert set(calls) == set(before)
        # One chunk per CHUNK deadlines, not one per deadline: fired by the pump itself (four
        # chunks, within TASKS), or one stream message each.
        redis = service.store.redis  # type: ignore[attr-defined]
        messages = await redis.xlen(f"{redis_cleanup}:timers")
        assert messages == worker.kicked
        assert -(-rooms // CHUNK) <= worker.fired_here + worker.kicked < rooms // 10
        assert (worker.fired_here > 0) == fire_claims

        # Duplicates change nothing: the same batch again, and the one-deadline task of
        # earlier versions (a message of theirs may be in the stream during an upgrade).
        fired = worker.fired
        again = [due for _, due in list(before.values())[:CHUNK]]
        await worker.task.kiq(again)
        await worker.single_task.kiq(*again[0])
        await until(lambda: worker.fired >= fired + len(again) + 1)
        await assert_fired_once(service, before)


async def test_the_one_deadline_task_of_earlier_versions_still_fires(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    service = make_service(redis_cleanup)
    before = await running_rooms(service, 1)
    ((code, (_, due)),) = before.items()
    # The worker runs on the rooms' clock here: its pump does not claim the 30 s deadline.
    async with timer_worker(redis_cleanup, service.fire, clock=time.time) as worker:
        await worker.single_task.kiq(*due)
        await until(lambda: all_over(service, [code]))
    await assert_fired_once(service, before)


_HOLDER = """
import asyncio, sys, time
from weirsoe_platform.sessions._redis_store import connect_redis, wake_channel
from weirsoe_platform.timers import RedisDeadlines, TimerWorker, make_broker

URL, PREFIX, COUNT, HERE = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"

async def main():
    held = set()
    stuck = asyncio.Event()

    async def fire(code, key, serial, at):
        held.add(code)
        if len(held) == COUNT:
            print("holding", flush=True)
        await stuck.wait()  # never set: this worker holds its batches until it is killed

    worker = TimerWorker(
        deadlines=RedisDeadlines(connect_redis(URL), prefix=PREFIX, ttl=600),
        broker=make_broker(URL, prefix=PREFIX),
        fire=fire,
        clock=lambda: time.time() + 60,
        fire_claims=HERE,
    )
    await worker.start()
    await stuck.wait()

asyncio.run(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize("fire_claims", [True, False], ids=["pump-fires", "stream-only"])
async def test_a_worker_killed_holding_a_batch_loses_no_deadline(
    redis_cleanup: str, make_service: Callable[[str], SessionService], fire_claims: bool
) -> None:
    service = make_service(redis_cleanup)
    rooms = CHUNK + 10  # two chunks
    before = await running_rooms(service, rooms)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, REDIS_URL, redis_cleanup, str(rooms), str(+fire_claims)],
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(holder.stdout.readline), 60)  # type: ignore[union-attr]
        assert line.strip() == b"holding"
        redis = service.store.redis  # type: ignore[attr-defined]
        # It holds every deadline: claimed (leased), and either firing in the pump's own
        # process or read from the stream and not acknowledged.
        pending = await redis.xpending(f"{redis_cleanup}:timers", f"{redis_cleanup}:workers")
        assert pending["pending"] == (0 if fire_claims else 2)
        assert await redis.zcard(f"{redis_cleanup}:deadlines") == rooms
        holder.kill()  # SIGKILL: no clean-up, no acknowledgement
        holder.wait(5)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(5)
    async with timer_worker(redis_cleanup, service.fire):
        await until(lambda: all_over(service, list(before)))
        await assert_fired_once(service, before)


async def test_a_pump_fires_up_to_tasks_chunks_itself_and_sends_the_rest_to_the_stream(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """A burst bigger than a pump fires at once: TASKS chunks stay in the pump's process, and
    the rest go through the stream, where any worker (this one's receiver too) takes them."""
    service = make_service(redis_cleanup)
    rooms = CHUNK * TASKS + 10
    before = await running_rooms(service, rooms)
    release = asyncio.Event()
    calls: Counter[str] = Counter()

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        calls[code] += 1
        await release.wait()  # the pump's own chunks stay busy until the rest were kicked
        return await service.fire(code, key, serial, at)

    async with timer_worker(redis_cleanup, fire) as worker:
        await until(lambda: worker.kicked >= 1, timeout=LEASE)  # before any lease runs out
        assert worker.fired_here == TASKS
        release.set()
        await until(lambda: all_over(service, list(before)))
        await assert_fired_once(service, before)
        assert set(calls) == set(before)
        redis = service.store.redis  # type: ignore[attr-defined]
        assert await redis.xlen(f"{redis_cleanup}:timers") == worker.kicked


@pytest.mark.parametrize("pipelined", [False, True], ids=["redis-py", "pipelined"])
async def test_stale_entries_are_dropped_in_one_call_unless_replaced(
    redis_cleanup: str, pipelined: bool
) -> None:
    """Claims and completions go through redis-py, or through the store's auto-pipelining
    connection as ``weirsoe serve`` and ``weirsoe worker`` send them; the same either way."""
    redis = connect_redis(REDIS_URL)
    fast = PipelinedRedis.of_client(redis) if pipelined else None
    assert (fast is not None) == pipelined
    deadlines = RedisDeadlines(redis, prefix=redis_cleanup, ttl=60, fast=fast)
    now = time.time()
    await deadlines.schedule("ONE", "q0:lie", 5, now)
    await deadlines.schedule("TWO", "q0:lie", 7, now)
    await deadlines.schedule("TWO", "q0:guess", 8, now + 1)  # replaced since it was claimed
    dropped = await deadlines.complete_many(
        [("ONE", "q0:lie", 5, now), ("TWO", "q0:lie", 7, now), ("GONE", "q0:lie", 1, now)]
    )
    assert dropped == 1
    assert await deadlines.claim(now + 2) == [("TWO", "q0:guess", 8, pytest.approx(now + 1))]
    assert await deadlines.complete_many([]) == 0
    # Claimed: leased for LEASE seconds, so not claimed again at once; then the next due time.
    due, soonest = await deadlines.claim_due(now + 2)
    assert due == []
    assert soonest == pytest.approx(now + 2 + LEASE)
    if fast is not None:
        await fast.aclose()
    await redis.aclose()


async def test_a_deadline_this_process_sets_wakes_its_sleeping_pump(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """The pump sleeps up to ``poll`` when nothing is due. A deadline set in its own process
    (the compare-and-set writes it) wakes it if it is due before the pump would wake; a later
    one does not. ``poll`` is an hour here, so only the wake can fire the deadline within the
    test; the pump runs 60 s ahead, so the new 30 s throw deadline is due at once."""
    service = make_service(redis_cleanup)
    fired: list[str] = []

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        fired.append(code)
        return await service.fire(code, key, serial, at)

    # The worker on the service's own deadlines, as `serve --with-worker` wires them.
    deadlines = service.deadlines
    assert isinstance(deadlines, RedisDeadlines)
    async with timer_worker(redis_cleanup, fire, deadlines=deadlines, poll=3600.0) as worker:
        await until(lambda: worker._waiting is not None, timeout=10)
        deadlines.sooner(ahead() + 2 * 3600)  # after the pump's wake: no effect
        assert worker.woken == 0
        code, host = await service.create("rps", {"rounds": 1, "throw_seconds": 30})
        await service.join(code, "A")
        await service.join(code, "B")
        assert worker.woken == 0  # no deadline yet
        await service.control(code, host, "play")  # sets the 30 s throw deadline
        assert worker.woken == 1
        await until(lambda: fired == [code], timeout=10)
        await until(lambda: all_over(service, [code]), timeout=10)


# Leads 5 ms apart over one poll (POLL, 50 ms, plus the claim): whatever the phase of the
# pump's polls, one of them would end 0-6 ms after the first deadline is due.
@pytest.mark.parametrize("lead_ms", range(300, 356, 5))
async def test_deadlines_due_close_together_share_one_claim(
    redis_cleanup: str, lead_ms: int
) -> None:
    """The pump wakes ``GATHER`` after the soonest deadline is due: deadlines due within that
    window are claimed (one Redis round trip) and fired together, as one chunk of the pump's
    own (``fired_here``), none before it is due. The pump hears of them only by polling here
    (no wakes): before it slept to the end of a gather window its poll would end in, the leads
    that put a poll's end inside the window split the claim in two."""
    redis = connect_redis(REDIS_URL)
    deadlines = RedisDeadlines(redis, prefix=redis_cleanup, ttl=600)
    fired: list[tuple[str, float, float]] = []

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        fired.append((code, at, time.time()))
        await deadlines.complete(code, key, serial, at)
        return True

    try:
        async with timer_worker(
            redis_cleanup, fire, clock=time.time, deadlines=deadlines
        ) as worker:
            # All four must be stored before the first is due (asserted below)
            first = time.time() + lead_ms / 1000
            spacing = 0.002
            assert 3 * spacing < GATHER
            for i in range(4):  # due within GATHER of the first
                await deadlines.schedule(f"R{i}", "k", 1, first + i * spacing)
            assert time.time() < first, "the test's premise: all four stored before one is due"
            await until(lambda: len(fired) == 4, timeout=10)
            assert worker.fired_here == 1  # one claim, one chunk (each claim is a chunk)
    finally:
        await redis.aclose()
    assert all(when >= at for _, at, when in fired)  # none fired early


async def test_a_deadline_another_process_sets_wakes_a_listening_pump(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """A worker that hears the wake channel sleeps up to ``rescan`` (an hour here, as ``poll``):
    a deadline set by another process (a service with deadlines of its own, as a `serve`
    without `--with-worker` has) wakes it through Redis, since the compare-and-set that made
    it the soonest published it. Without that publish nothing fires within the test."""
    service = make_service(redis_cleanup)
    assert service.deadlines.wake is None  # not the worker's: no wake inside the process
    fired: list[str] = []

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        fired.append(code)
        return await service.fire(code, key, serial, at)

    async with timer_worker(redis_cleanup, fire, poll=3600.0, wakes=True, rescan=3600.0) as worker:
        await until(lambda: worker.listening and worker._waiting is not None, timeout=10)
        claims = worker.claims
        code, host = await service.create("rps", {"rounds": 1, "throw_seconds": 30})
        await service.join(code, "A")
        await service.join(code, "B")
        await service.control(code, host, "play")  # sets the 30 s throw deadline
        await until(lambda: fired == [code], timeout=10)
        await until(lambda: all_over(service, [code]), timeout=10)
        assert worker.woken >= 1
        assert worker.claims > claims


async def test_a_deadline_heard_twice_wakes_the_pump_once(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """A `serve --with-worker` hears of its own deadline twice: from its compare-and-set, and
    on the wake channel. The first wakes the pump, which then sleeps until ``GATHER`` after
    that deadline; the second finds it already sleeping no longer than that, and does not wake
    it again (each wake is a claim, a Redis round trip)."""
    service = make_service(redis_cleanup)
    deadlines = service.deadlines
    assert isinstance(deadlines, RedisDeadlines)

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        return await service.fire(code, key, serial, at)

    async with timer_worker(
        redis_cleanup,
        fire,
        clock=time.time,
        deadlines=deadlines,
        poll=3600.0,
        wakes=True,
        rescan=3600.0,
    ) as worker:
        await until(lambda: worker.listening and worker._waiting is not None, timeout=10)
        # The wake channel's copy is held on its way until the pump sleeps again (else it
        # may arrive during the pump's claim, a case of its own).
        assert worker.wakes is not None
        held: list[tuple[bytes, bytes]] = []
        worker.wakes.on_message = lambda channel, payload: held.append((channel, payload))
        code, host = await service.create("rps", {"rounds": 1, "throw_seconds": 30})
        await service.join(code, "A")
        await service.join(code, "B")
        await service.control(code, host, "play")  # sets the 30 s throw deadline
        assert worker.woken == 1
        _, table = await service.load(code)
        assert table.deadline is not None
        assert await worker.wakes.settle()  # the wake channel's copy has arrived
        assert len(held) == 1
        await until(lambda: worker._waiting is not None, timeout=10)
        assert worker._wake_at == pytest.approx(table.deadline.at + GATHER, abs=0.05)
        worker._on_wake(*held[0])
        assert worker.woken == 1
        assert worker._waiting is not None
        assert not worker._waiting.done()


async def test_only_a_deadline_that_becomes_the_soonest_is_published(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """The wake channel carries a deadline's due time only when it is sooner than every
    deadline already set (a pump sleeps until the soonest it knew of, so a later one needs no
    wake), through the compare-and-set and through ``RedisDeadlines.schedule`` alike."""
    service = make_service(redis_cleanup)
    heard: list[float] = []
    listener = RedisPubSub(REDIS_URL, lambda _channel, payload: heard.append(float(payload)))
    listener.subscribe([wake_channel(redis_cleanup)])
    await listener.start()
    try:
        assert await listener.settle()

        async def play(seconds: int) -> float:
            code, host = await service.create("rps", {"rounds": 1, "throw_seconds": seconds})
            await service.join(code, "A")
            await service.join(code, "B")
            await service.control(code, host, "play")
            _, table = await service.load(code)
            assert table.deadline is not None
            return table.deadline.at

        first = await play(30)  # the only deadline: the soonest
        await play(60)  # later than the first: not published
        third = await play(10)  # sooner than both
        deadlines = service.deadlines
        assert isinstance(deadlines, RedisDeadlines)
        await deadlines.schedule("LATER", "k", 1, first + 100)  # not published
        await deadlines.schedule("SOONER", "k", 1, third - 5)
        await until(lambda: len(heard) >= 3, timeout=10)
        assert await listener.settle()  # anything published before this has arrived
        assert heard == [first, third, third - 5]
    finally:
        await listener.stop()


async def test_a_pump_that_loses_its_wake_subscription_polls_and_claims_again_when_back(
    redis_cleanup: str,
) -> None:
    """A lost wake subscription may have dropped a wake: until Redis confirms the new one, the
    pump sleeps at most ``poll`` (wakes unheard), and once it does, the pump claims at once,
    for any deadline set meanwhile. Here both ``poll`` and ``rescan`` are an hour, so only that
    claim after the reconnection adds to ``claims``."""

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        return True

    async with timer_worker(
        redis_cleanup, fire, clock=time.time, poll=3600.0, wakes=True, rescan=3600.0
    ) as worker:
        await until(lambda: worker.listening and worker._waiting is not None, timeout=10)
        claims = worker.claims
        assert worker.wakes is not None
        lost = asyncio.Event()
        original = worker.wakes.on_reset

        def on_reset() -> None:
            lost.set()
            assert original is not None
            original()

        worker.wakes.on_reset = on_reset
        await kill_pubsub(worker.wakes)
        assert lost.is_set()
        await until(lambda: worker.listening and worker.claims > claims, timeout=10)
        assert worker.claims == claims + 1


def _worker_at_1000(redis: Any, prefix: str, *, poll: float) -> TimerWorker:
    """A worker that is not started, whose clock reads 1000.0: for its sleep's arithmetic."""
    return TimerWorker(
        deadlines=RedisDeadlines(redis, prefix=prefix, ttl=600),
        broker=make_broker(REDIS_URL, prefix=prefix),
        fire=lambda *_: asyncio.sleep(0, True),
        clock=lambda: 1000.0,
        poll=poll,
    )


async def test_a_wake_heard_during_a_claim_shortens_the_next_sleep(redis_cleanup: str) -> None:
    """A deadline announced while the pump is claiming (not asleep) may have missed that
    claim: the pump then sleeps no longer than until it is due."""
    redis = connect_redis(REDIS_URL)
    try:
        worker = _worker_at_1000(redis, redis_cleanup, poll=30.0)
        assert worker._waiting is None  # not asleep: as during a claim
        assert worker._pause(None) == 30.0
        worker.sooner(1002.0)
        assert worker._pause(None) == pytest.approx(2.0 + GATHER)
        assert worker._pause(1001.0) == pytest.approx(1.0 + GATHER)
    finally:
        await redis.aclose()


async def test_the_pump_never_wakes_inside_a_gather_window(redis_cleanup: str) -> None:
    """Deadlines due within ``GATHER`` of the soonest share its claim only if the pump does not
    wake between the soonest and the window's end. When ``poll`` would end the sleep there, the
    pump sleeps to the window's end instead (at most ``GATHER`` past ``poll``); when ``poll``
    ends it before the soonest is due (that claim finds nothing), or the window ends first, the
    sleep is as before. Before, the test below split its claim at 2 of 16 leads 4 ms apart.
    A sleep that ends late, inside the window, is followed by a wait for the window's end."""
    redis = connect_redis(REDIS_URL)
    try:
        worker = _worker_at_1000(redis, redis_cleanup, poll=0.05)
        # Due 48 ms from now: a 50 ms sleep would wake 2 ms into its 10 ms window.
        assert worker._pause(1000.048) == pytest.approx(0.048 + GATHER)
        # Due exactly at the poll's end, and up to GATHER before it: to the window's end.
        assert worker._pause(1000.05) == pytest.approx(0.05 + GATHER)
        assert worker._pause(1000.05 - GATHER) == pytest.approx(0.05)
        # Due after the poll's end: that wake comes before it is due.
        assert worker._pause(1000.0 + 0.05 + 1e-6) == pytest.approx(0.05)
        assert worker._pause(1000.3) == pytest.approx(0.05)
        # Due already (a claim found it leased): at most GATHER, never below 1 ms.
        assert worker._pause(999.0) == pytest.approx(0.001)
        # A sleep planned to end before the soonest is due can end late, on a busy loop: woken
        # inside the window, the pump waits for its end before it claims; once.
        worker._pause(1000.0 - 0.002)  # the clock: 2 ms into that deadline's window
        assert worker._gather_rest() == pytest.approx(GATHER - 0.002)
        assert worker._gather_rest() == 0.0
        worker._pause(1000.0 - GATHER)  # the window ends now: claim
        assert worker._gather_rest() == 0.0
        worker._pause(1000.5)  # not due yet: a claim finds nothing, and costs nothing
        assert worker._gather_rest() == 0.0
    finally:
        await redis.aclose()


async def test_a_claim_leaves_another_pumps_deadline_to_it_until_affinity(
    redis_cleanup: str,
) -> None:
    """A deadline stored with an owner (the pump of the process that set it) is claimed at
    once by that pump, and by another only ``grace`` after it is due (its owner died, or is
    that far behind); one without an owner by any pump at once. The claim also says when this
    pump may next claim something, so it sleeps neither past that nor needlessly."""
    redis = connect_redis(REDIS_URL)
    d = RedisDeadlines(redis, prefix=redis_cleanup, ttl=600)
    t, grace = 1000.0, 0.25
    try:
        d.owner = "A"
        await d.schedule("RA", "k", 1, t)
        await d.schedule("RA2", "k", 1, t + 0.6)
        d.owner = ""
        await d.schedule("RN", "k", 1, t + 0.5)
        assert await redis.get(f"{redis_cleanup}:deadline:RA:owner") == b"A"
        assert await redis.get(f"{redis_cleanup}:deadline:RN:owner") is None

        # Before anything is due, A would claim next at t, B at t + grace (RA is A's).
        assert await d.claim_due(t - 0.1, me="A", grace=grace) == ([], pytest.approx(t))
        assert await d.claim_due(t - 0.1, me="B", grace=grace) == ([], pytest.approx(t + grace))
        # B, just after RA fell due: RA is A's for a while yet; B may claim it at t + grace,
        # before RN (no owner) falls due.
        due, soonest = await d.claim_due(t + 0.01, me="B", grace=grace)
        assert due == []
        assert soonest == pytest.approx(t + grace)
        # A claims its own at once.
        due, _ = await d.claim_due(t + 0.01, me="A", grace=grace)
        assert [c for c, *_ in due] == ["RA"]
        # B would have taken it once grace had passed (A did not claim it: it died).
        d.owner = "A"
        await d.schedule("RA", "k", 3, t)  # set again by A, and not claimed this time
        due, soonest = await d.claim_due(t + grace + 0.01, me="B", grace=grace)
        assert [(c, serial) for c, _, serial, _ in due] == [("RA", 3)]
        assert soonest == pytest.approx(t + 0.5)  # RN, anyone's
        # Anyone's deadline goes to whichever pump claims first.
        due, soonest = await d.claim_due(t + 0.55, me="A", grace=grace)
        assert [c for c, *_ in due] == ["RN"]
        assert soonest == pytest.approx(t + 0.6)  # A's own RA2
        # B skips A's RA2 and sleeps until A's time is up; the leased entries come later.
        due, soonest = await d.claim_due(t + 0.61, me="B", grace=grace)
        assert due == []
        assert soonest == pytest.approx(t + 0.6 + grace)
        # Without AFFINITY (grace 0, as a pump of an earlier version), any pump takes it.
        due, _ = await d.claim_due(t + 0.61, me="B", grace=0.0)
        assert [c for c, *_ in due] == ["RA2"]
        # Completing or cancelling a deadline drops its owner too.
        assert await d.complete("RA2", "k", 1, t + 0.6)
        await d.cancel("RA")
        await d.cancel("RN")
        assert [k async for k in redis.scan_iter(f"{redis_cleanup}:deadline:*")] == []
        assert await redis.zcard(f"{redis_cleanup}:deadlines") == 0
    finally:
        await redis.aclose()


async def test_a_room_s_deadlines_fire_in_the_process_that_set_them(
    redis_cleanup: str, make_service: Callable[[str], SessionService]
) -> None:
    """Two `serve --with-worker` processes on one Redis. Process B's pump runs 0.1 s ahead of
    A's clock, so without AFFINITY it would claim every deadline first; the rooms were set
    up through A, so A fires all of them, and B none. A room set up by a process without a
    pump has no owner: B takes its deadline first. Once A has stopped, B fires A's rooms'
    deadlines, AFFINITY after they are due."""
    a, b, plain = (make_service(redis_cleanup) for _ in range(3))
    fired: dict[str, list[tuple[str, float, float]]] = {"a": [], "b": []}

    def firing(name: str, service: SessionService, skew: float) -> Any:
        async def fire(code: str, key: str, serial: int, at: float) -> bool:
            fired[name].append((code, at, time.time() + skew))
            return await service.fire(code, key, serial, at)

        return fire

    async def play(service: SessionService, count: int) -> list[str]:
        codes = []
        for _ in range(count):
            code, host = await service.create("rps", {"rounds": 1, "throw_seconds": 0.5})
            await service.join(code, "A")
            await service.join(code, "B")
            await service.control(code, host, "play")
            codes.append(code)
        return codes

    def skewed() -> float:
        return time.time() + 0.1

    assert AFFINITY > 0.1
    async with timer_worker(
        redis_cleanup,
        firing("b", b, 0.1),
        clock=skewed,
        deadlines=b.deadlines,  # type: ignore[arg-type]
    ) as worker_b:
        b.store.owner = b.deadlines.owner = worker_b.id  # type: ignore[attr-defined]
        async with timer_worker(
            redis_cleanup,
            firing("a", a, 0.0),
            clock=time.time,
            deadlines=a.deadlines,  # type: ignore[arg-type]
        ) as worker_a:
            a.store.owner = a.deadlines.owner = worker_a.id  # type: ignore[attr-defined]
            owned = await play(a, 6)
            await until(lambda: all_over(a, owned), timeout=10)
            assert sorted(c for c, *_ in fired["a"]) == sorted(owned)
            assert fired["b"] == []
            anyones = await play(plain, 3)
            await until(lambda: all_over(plain, anyones), timeout=10)
            assert sorted(c for c, *_ in fired["b"]) == sorted(anyones)
            codes = await play(a, 3)
        # A has stopped: its rooms' deadlines are left to it for AFFINITY, then B fires them.
        fired["b"].clear()
        await until(lambda: all_over(b, codes), timeout=10)
        assert sorted(c for c, *_ in fired["b"]) == sorted(codes)
        assert all(when >= at + AFFINITY for _, at, when in fired["b"])


async def test_live_workers_counts_beats_by_redis_clock_and_lapses(redis_cleanup: str) -> None:
    # Each beat is in the live set until HEARTBEAT_TTL after it by Redis's own clock; a worker
    # that stops beating drops out, and the set itself lapses with its last worker. The
    # count is one command, whatever else the database holds.
    from weirsoe_platform.timers import live_workers
    from weirsoe_platform.timers._redis import _BEAT, live_key

    redis = connect_redis(REDIS_URL)
    beat = redis.register_script(_BEAT)
    key = live_key(redis_cleanup)
    assert await live_workers(redis, redis_cleanup) == 0
    await beat(keys=[key], args=["w1", 1])
    await beat(keys=[key], args=["w2", 30])
    assert await live_workers(redis, redis_cleanup) == 2
    assert 0 < await redis.ttl(key) <= 30  # the set lapses with its last beat
    await asyncio.sleep(1.2)
    assert await live_workers(redis, redis_cleanup) == 1
    await beat(keys=[key], args=["w2", 1])  # w2's next beat: w1 is gone from the set
    assert await redis.zrange(key, 0, -1) == [b"w2"]
    assert 0 < await redis.pttl(key) <= 1000
    await asyncio.sleep(1.2)
    assert await live_workers(redis, redis_cleanup) == 0
    assert not await redis.exists(key)
    await redis.aclose()
