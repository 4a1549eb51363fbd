"""The audience counter on each backend: one vote per member, re-votes replace, caps, freezing,
throttled progress, and the room's TTL on every key (Redis)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from _platform_env import REDIS_URL

from weirsoe_platform.sessions._counter import AudienceCounter, MemoryAudienceCounter
from weirsoe_sdk import InvalidAction, OpenTally

CODE = "ABCD"
TRUTH = OpenTally(id="truth@5", name="truth", key="guess", choices=["a", "b", "c"])
REACT = OpenTally(id="react@5", name="react", key="guess", choices=["x", "y"], cap=2, live=True)


@pytest.fixture(params=["memory", "redis", "redis-pipelined"])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[AudienceCounter]:
    if request.param == "memory":
        yield MemoryAudienceCounter()
        return
    # The conftest fixture skips, with the reason, when Redis cannot be reached. (Not an import
    # of redis_reason: the whole suite has one `conftest` module name for several folders.)
    prefix: str = request.getfixturevalue("redis_prefix")
    from weirsoe_platform.sessions._redis_counter import RedisAudienceCounter
    from weirsoe_platform.sessions._redis_store import connect_redis

    redis = connect_redis(REDIS_URL)
    await redis.hset(f"{prefix}:session:{CODE}", mapping={"v": 1, "d": b"x"})
    await redis.pexpire(f"{prefix}:session:{CODE}", 60_000)
    from weirsoe_platform._resp import PipelinedRedis

    fast = PipelinedRedis.of_client(redis) if request.param == "redis-pipelined" else None
    try:
        yield RedisAudienceCounter(redis, prefix=prefix, fast=fast)
    finally:
        if fast is not None:
            await fast.aclose()
        async for key in redis.scan_iter(f"{prefix}:*"):
            await redis.delete(key)
        await redis.aclose()


async def _code(counter: AudienceCounter, coro: object) -> str:
    with pytest.raises(InvalidAction) as info:
        await coro  # type: ignore[misc]
    return info.value.code


async def test_votes_are_exact_under_concurrency_and_revotes_replace(
    counter: AudienceCounter,
) -> None:
    assert await counter.open(CODE, TRUTH, 60)
    assert not await counter.open(CODE, TRUTH, 60)  # idempotent
    rng = random.Random(7)
    final: dict[str, str] = {}

    async def member(i: int) -> None:
        for _ in range(rng.randint(1, 3)):
            choice = rng.choice(TRUTH.choices)
            await counter.vote(CODE, f"m{i}", "truth", choice)
            final[f"m{i}"] = choice

    await asyncio.gather(*(member(i) for i in range(200)))
    counts = await counter.freeze(CODE, [TRUTH])
    expected = Counter(final.values())
    assert counts == {TRUTH.id: {c: expected[c] for c in TRUTH.choices}}
    assert sum(counts[TRUTH.id].values()) == 200
    # Frozen: no vote counts any more, and the counts do not move.
    assert await _code(counter, counter.vote(CODE, "m1", "truth", "a")) == "tally_closed"
    assert await counter.freeze(CODE, [TRUTH]) == counts
    await counter.close(CODE, [TRUTH])
    assert not await counter.open(CODE, TRUTH, 60)  # a closed opening never comes back


async def test_bad_votes_have_stable_codes_and_change_no_count(counter: AudienceCounter) -> None:
    await counter.open(CODE, TRUTH, 60)
    await counter.open(CODE, REACT, 60)
    await counter.add_member(CODE, "hash1", "m1", 60)
    await counter.vote(CODE, "m1", "truth", "a")
    assert await counter.vote(CODE, "m1", "truth", "a") is False  # the same vote again
    assert await _code(counter, counter.vote(CODE, "m1", "truth", "zzz")) == "unknown_choice"
    assert await _code(counter, counter.vote(CODE, "m1", "nosuch", "a")) == "tally_closed"
    await counter.vote(CODE, "m1", "react", "x")
    await counter.vote(CODE, "m1", "react", "x")
    assert await _code(counter, counter.vote(CODE, "m1", "react", "y")) == "vote_cap"
    assert await counter.ballots(CODE, "m1") == {"truth": "a", "react": 2}
    assert await counter.kick(CODE, "m1")
    assert not await counter.kick(CODE, "nobody")
    assert await counter.member(CODE, "hash1") == ("m1", True)
    assert await _code(counter, counter.vote(CODE, "m1", "truth", "b")) == "audience_kicked"
    await counter.set_enabled(CODE, False)
    assert await _code(counter, counter.vote(CODE, "m2", "truth", "b")) == "audience_off"
    await counter.set_enabled(CODE, True)
    counts = await counter.freeze(CODE, [TRUTH, REACT])
    assert counts == {TRUTH.id: {"a": 1, "b": 0, "c": 0}, REACT.id: {"x": 2, "y": 0}}


async def test_an_older_opening_never_replaces_a_newer_one(counter: AudienceCounter) -> None:
    newer = OpenTally(id="truth@9", name="truth", key="guess", choices=["q"])
    assert await counter.open(CODE, newer, 60)
    assert not await counter.open(CODE, TRUTH, 60)
    await counter.vote(CODE, "m", "truth", "q")
    assert (await counter.freeze(CODE, [newer]))[newer.id] == {"q": 1}


async def test_progress_is_throttled_and_hides_counts_of_a_hidden_tally(
    counter: AudienceCounter,
) -> None:
    await counter.open(CODE, TRUTH, 60)
    await counter.open(CODE, REACT, 60)
    await counter.add_member(CODE, "h", "m1", 60)
    await counter.watch(CODE, 1)
    await counter.vote(CODE, "m1", "truth", "b")
    await counter.vote(CODE, "m1", "react", "y")
    first = await counter.progress(CODE, 0.5)
    assert first is not None
    assert (first.members, first.watching) == (1, 1)
    by_name = {t.name: t for t in first.tallies}
    assert by_name["truth"].votes == 1
    assert by_name["truth"].counts is None  # not live: only how many voted
    assert by_name["react"].counts == {"x": 0, "y": 1}
    assert await counter.progress(CODE, 0.5) is None  # within the interval: nothing
    await asyncio.sleep(0.55)
    assert await counter.progress(CODE, 0.5) is not None
    await counter.watch(CODE, -1)
    assert (await counter.stats(CODE))[1] == 0


async def test_ballots_and_progress_leave_out_frozen_tallies(counter: AudienceCounter) -> None:
    await counter.open(CODE, TRUTH, 60)
    await counter.open(CODE, REACT, 60)
    await counter.add_member(CODE, "h1", "m1", 60)
    await counter.add_member(CODE, "h2", "m2", 60)
    await counter.vote(CODE, "m1", "react", "x")
    assert await counter.ballots(CODE, "m2") == {"truth": None, "react": 0}  # voted nowhere
    assert await counter.ballots(CODE, "m1") == {"truth": None, "react": 1}
    await counter.freeze(CODE, [TRUTH])
    assert await counter.ballots(CODE, "m1") == {"react": 1}
    progress = await counter.progress(CODE, 0.5)
    assert progress is not None
    assert progress.members == 2
    assert [(t.name, t.id, t.votes, t.counts) for t in progress.tallies] == [
        ("react", REACT.id, 1, {"x": 1, "y": 0})
    ]
    await counter.close(CODE, [TRUTH, REACT])
    assert await counter.ballots(CODE, "m1") == {}


async def test_pipelined_counter_leaves_redis_py_idle_on_the_game_path(
    redis_prefix: str,
) -> None:
    """With the store's pipelined connection, what every game does (open, freeze, close,
    progress, snapshot numbers) and what every audience member does (vote, ballots) send
    nothing through redis-py: its pool opens no connection."""
    from weirsoe_platform._resp import PipelinedRedis
    from weirsoe_platform.sessions._redis_counter import RedisAudienceCounter
    from weirsoe_platform.sessions._redis_store import connect_redis

    setup = connect_redis(REDIS_URL)
    idle = connect_redis(REDIS_URL)
    fast = PipelinedRedis.of_client(idle)
    assert fast is not None
    try:
        await setup.hset(f"{redis_prefix}:session:{CODE}", mapping={"v": 1, "d": b"x"})
        await setup.pexpire(f"{redis_prefix}:session:{CODE}", 60_000)
        await setup.hset(f"{redis_prefix}:aud:{CODE}", mapping={"t:h": "m1", "n": 1})
        counter = RedisAudienceCounter(idle, prefix=redis_prefix, fast=fast)
        assert await counter.open(CODE, TRUTH, 60)
        assert await counter.vote(CODE, "m1", "truth", "c")
        assert await counter.ballots(CODE, "m1") == {"truth": "c"}
        progress = await counter.progress(CODE, 0.5)
        assert progress is not None
        assert progress.members == 1
        assert await counter.stats(CODE) == (1, 0, True)
        assert await counter.freeze(CODE, [TRUTH]) == {TRUTH.id: {"a": 0, "b": 0, "c": 1}}
        await counter.close(CODE, [TRUTH])
        assert sum(n for n, _ in idle.connection_pool.get_connection_count()) == 0
    finally:
        await fast.aclose()
        async for key in setup.scan_iter(f"{redis_prefix}:*"):
            await setup.delete(key)
        await setup.aclose()
        await idle.aclose()


async def test_redis_keys_carry_the_rooms_ttl_and_go_with_it(counter: AudienceCounter) -> None:
    if isinstance(counter, MemoryAudienceCounter):
        await counter.delete(CODE)
        assert await counter.stats(CODE) == (0, 0, True)
        return
    redis = counter.redis  # type: ignore[attr-defined]
    prefix = counter.prefix  # type: ignore[attr-defined]
    await counter.open(CODE, TRUTH, 60)
    await counter.add_member(CODE, "h", "m1", 60)
    await counter.vote(CODE, "m1", "truth", "a")
    keys = [k async for k in redis.scan_iter(f"{prefix}:*")]
    assert len(keys) >= 4
    for key in keys:
        assert 0 < await redis.pttl(key) <= 60_000, key
    await counter.delete(CODE)
    left = [k async for k in redis.scan_iter(f"{prefix}:*") if b":session:" not in k]
    assert left == []
