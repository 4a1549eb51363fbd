"""Snapshots read the table a transition committed (``SessionService._commit`` puts it in the
``DecodedCache``) instead of decoding the stored bytes again. Played through a whole game of
Weirsøe Lies by its own bot (taken from the SDK contract: the platform imports no cartridge):
every snapshot, for every viewer, is byte for byte the snapshot of a fresh decode of what the
store holds."""

from __future__ import annotations

import asyncio
import json
import random

from _platform_env import REDIS_URL
from _service_support import memory_service

from weirsoe_platform.audience import AudienceDesk
from weirsoe_platform.sessions._redis_counter import RedisAudienceCounter
from weirsoe_platform.sessions._redis_store import connect_redis
from weirsoe_sdk import Refused, Viewer


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_snapshots_of_the_committed_table_equal_those_of_a_fresh_decode() -> None:
    clock = Clock()
    service = memory_service(clock=clock)
    code, host = await service.create("weirsoe_lies", {"rounds": 2}, seed=7)
    players = [(await service.join(code, f"Bot {i}"))[0] for i in range(4)]
    await service.control(code, host, "play")
    viewers = [Viewer("host", None), *(Viewer("player", p) for p in players)]
    bot, rng = service.cartridge("weirsoe_lies").bot, random.Random(7)  # the cartridge's own
    assert bot is not None
    hits0, compared, actions = service.decoded.hits, 0, 0
    for _ in range(400):
        _, table = await service.load(code)
        if table.status != "running":
            break
        for viewer in viewers:
            shared = await service.snapshot(code, viewer)
            service.decoded.forget(code)
            fresh = await service.snapshot(code, viewer)  # decodes the stored bytes
            assert shared == fresh, (viewer, table.version)
            compared += 1
            if viewer.player_id is None:
                continue
            view = json.loads(shared).get("view")
            action = bot.act(view or {}, viewer.player_id, rng, lambda: f"lie {rng.random()}")
            if action is not None:
                try:
                    await service.act(code, viewer.player_id, dict(action))
                except Refused:
                    continue
                actions += 1
                hits = service.decoded.hits
                await service.snapshot(code, viewer)  # the version that action committed
                assert service.decoded.hits == hits + 1, "read the committed table, no decode"
        _, table = await service.load(code)
        if table.deadline is not None:  # nobody has more to do: the phase's time runs out
            clock.now = max(clock.now, table.deadline.at)
            d = table.deadline
            await service.fire(code, d.key, d.serial, d.at)
    _, table = await service.load(code)
    assert table.status == "over"
    assert actions > 10
    assert compared > 100
    assert service.decoded.hits - hits0 >= actions


async def test_a_thousand_rooms_are_read_without_a_decode() -> None:
    """The issue's 1,000 rooms per process: every room's committed table stays in the cache,
    so a snapshot after a round of commits in every room decodes nothing, even in the room
    that committed first (the one a least-recent cache drops first)."""
    service = memory_service(clock=Clock())
    codes = [(await service.create("weirsoe_lies", seed=i))[0] for i in range(1000)]
    for code in codes:
        await service.join(code, "Ann")  # a commit: its table goes into the cache
    hits0 = service.decoded.hits
    for code in codes:  # oldest commit first
        await service.snapshot(code, Viewer("host", None))
    assert service.decoded.hits - hits0 == 1000


async def test_a_transition_takes_over_the_committed_table_nobody_holds(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The next transition of a room changes the table the last one committed, instead of
    decoding a copy of the stored bytes, when no reader holds it; what it commits is what a
    transition on a fresh decode commits."""
    service = memory_service(clock=Clock())
    twin = memory_service(clock=Clock())  # the same inputs, each transition on a fresh decode
    code, _ = await service.create("weirsoe_lies", seed=3)
    twin_code, _ = await twin.create("weirsoe_lies", seed=3)
    runtime = service.runtimes["weirsoe_lies"]
    decodes = []
    real = runtime.decode
    monkeypatch.setattr(runtime, "decode", lambda data: decodes.append(1) or real(data))
    for name in ("Ann", "Bob", "Cy"):
        taken = service.decoded.taken
        await service.join(code, name)
        twin.decoded.forget(twin_code)  # nothing to take: the twin decodes every time
        await twin.join(twin_code, name)
        if name != "Ann":  # the room's first transition decodes the table create stored
            assert service.decoded.taken == taken + 1
    assert service.decoded.taken == 2
    assert len(decodes) == 1
    (_, mine), (_, theirs) = await service.load(code), await twin.load(twin_code)
    names = [p.name for p in mine.players]
    assert names == [p.name for p in theirs.players] == ["Ann", "Bob", "Cy"]
    assert mine.version == theirs.version


async def test_a_committed_table_a_reader_holds_never_changes_under_it() -> None:
    """A reader holding the record or the table of a version (a snapshot across its await,
    say) keeps them as they were: the next transition decodes a copy of its own."""
    service = memory_service(clock=Clock())
    code, _ = await service.create("weirsoe_lies", seed=4)
    await service.join(code, "Ann")
    runtime = service.runtimes["weirsoe_lies"]
    for held in ("table", "record"):
        record, table = await service.read(code)  # the committed table, shared
        kept = table if held == "table" else record
        del record, table
        stored = kept.table if held == "record" else runtime.encode(kept)
        version = kept.version
        taken = service.decoded.taken
        await service.join(code, f"{held} reader")
        assert service.decoded.taken == taken, f"took the {held} a reader holds"
        assert kept.version == version
        assert (kept.table if held == "record" else runtime.encode(kept)) == stored
        assert (await service.read(code))[1].version > version
        del kept
    taken = service.decoded.taken
    await service.join(code, "Dee")  # nobody holds the committed table any more
    assert service.decoded.taken == taken + 1


async def test_a_snapshot_holds_no_table_while_it_waits_for_the_audience(
    redis_cleanup: str,
) -> None:
    """A snapshot asks for the audience's numbers (a round trip to the real Redis) before it
    reads the room, so a transition that comes while it waits still takes the committed table
    over; the snapshot then shows the room as that transition left it."""
    service = memory_service(clock=Clock())
    redis = connect_redis(REDIS_URL)
    service.audience = AudienceDesk(service, RedisAudienceCounter(redis, prefix=redis_cleanup))
    try:
        code, _ = await service.create("weirsoe_lies", seed=5)
        ann, _, _ = await service.join(code, "Ann")
        await service.join(code, "Bob")
        taken = service.decoded.taken
        reading = asyncio.create_task(service.snapshot(code, Viewer("player", ann)))
        await asyncio.sleep(0)  # the snapshot now waits for the audience's numbers
        await service.join(code, "Cy")
        assert service.decoded.taken == taken + 1
        snapshot = json.loads(await reading)
        _, table = await service.load(code)
        assert snapshot["version"] == table.version
        assert snapshot["audience"]["enabled"] is True
    finally:
        await redis.aclose()
