"""The presence beat against the real Redis: what one beat leaves there, on the session
store's pipelined connection and on redis-py's, and an error inside its transaction."""

from __future__ import annotations

import pytest
from _platform_env import REDIS_URL
from redis.exceptions import ResponseError

from weirsoe_platform._resp import PipelinedRedis
from weirsoe_platform.sessions._redis_store import connect_redis
from weirsoe_platform.transport._heartbeat import KEEP, PresenceBeat
from weirsoe_platform.transport._ws import Presence


def _beat(prefix: str, presence: Presence, *, pipelined: bool) -> PresenceBeat:
    redis = connect_redis(REDIS_URL)
    fast = PipelinedRedis.of_client(redis) if pipelined else None
    assert fast is not None or not pipelined
    return PresenceBeat(
        redis,
        prefix=prefix,
        presence=presence,
        service=None,
        clock=lambda: 1234.5,
        fast=fast,  # type: ignore[arg-type]
    )


async def _close(beat: PresenceBeat) -> None:
    if beat.fast is not None:
        await beat.fast.aclose()
    await beat.redis.aclose()


@pytest.mark.parametrize("pipelined", [True, False])
async def test_a_beat_names_exactly_the_players_held_and_dates_the_process(
    redis_cleanup: str, pipelined: bool
) -> None:
    """Each beat replaces the process's set with the players it holds now (one that left is
    gone from it), stamps the process in ``P:procs``, and gives both keys their TTL; with no
    players left the set is gone. Both connections leave the same keys."""
    presence = Presence()
    for i in range(2000):
        presence.up(f"R{i // 8:03d}", f"p{i % 8}")
    beat = _beat(redis_cleanup, presence, pipelined=pipelined)
    admin = connect_redis(REDIS_URL)
    try:
        await beat.beat()
        mine = beat.key(beat.id)
        members = {m.decode() for m in await admin.smembers(mine)}
        assert members == {f"{code}|{player}" for code, player in presence.counts}
        assert len(members) == 2000
        assert await admin.zscore(beat.procs, beat.id) == 1234.5
        assert 0 < await admin.ttl(mine) <= KEEP
        assert 0 < await admin.ttl(beat.procs) <= KEEP

        presence.down("R000", "p3")
        await beat.beat()
        members = {m.decode() for m in await admin.smembers(mine)}
        assert "R000|p3" not in members
        assert len(members) == 1999

        presence.counts.clear()
        await beat.beat()
        assert not await admin.exists(mine)
        assert await admin.zscore(beat.procs, beat.id) == 1234.5
    finally:
        await _close(beat)
        await admin.aclose()


@pytest.mark.parametrize("pipelined", [True, False])
async def test_a_beat_whose_transaction_fails_inside_raises(
    redis_cleanup: str, pipelined: bool
) -> None:
    """A command that fails when ``EXEC`` runs it (``P:procs`` is not a sorted set) is raised,
    as redis-py's pipeline raises it, so the loop logs the outage instead of beating on."""
    presence = Presence()
    presence.up("ABCD", "p1")
    beat = _beat(redis_cleanup, presence, pipelined=pipelined)
    admin = connect_redis(REDIS_URL)
    try:
        await admin.set(beat.procs, "not a sorted set")
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await beat.beat()
        # The transaction's other commands ran: Redis does not roll back (redis-py's too).
        assert {m.decode() for m in await admin.smembers(beat.key(beat.id))} == {"ABCD|p1"}
    finally:
        await _close(beat)
        await admin.aclose()
