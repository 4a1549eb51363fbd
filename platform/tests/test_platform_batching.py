"""Inputs that reach one process for one room while a transition of that room is in flight
wait for it, then go into the next compare-and-set together (``SessionService._commit``).

A gate in the store's compare-and-set (:class:`CasGate`) lets a test hold a
transition in flight for as long as it needs: on the memory store, and on the real Redis where
a second process races the batch. The last test lets the batches form on their own, on Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

import msgspec
import pytest
from _platform_env import REDIS_URL

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.sessions import (
    MemorySessionStore,
    SessionNotFound,
    SessionService,
    SessionStore,
)
from weirsoe_platform.sessions._counter import AudienceCounter, MemoryAudienceCounter
from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
from weirsoe_platform.timers import LocalDeadlines, RedisDeadlines
from weirsoe_sdk import InvalidAction, OpenTally, discover_cartridges

DISCOVERY = discover_cartridges()


class CasGate:
    """Holds the compare-and-sets of a gated store (:class:`GatedMemoryStore`,
    :class:`GatedRedisStore`) until the test lets them through, once :meth:`close` has been
    called; records each as ``(expected, version)``, and whether it won. The store itself does
    the compare-and-set, as always: on Redis, the real one."""

    def __init__(self) -> None:
        self.permits: asyncio.Semaphore | None = None
        self.attempts: list[tuple[int, int]] = []
        self.won: list[bool] = []  # each compare-and-set's outcome, once it has one

    def close(self) -> None:
        self.permits = asyncio.Semaphore(0)

    def let_through(self, n: int = 1) -> None:
        assert self.permits is not None
        for _ in range(n):
            self.permits.release()

    async def around(
        self, expected: int, version: int, commit: Callable[[], Awaitable[bool]]
    ) -> bool:
        self.attempts.append((expected, version))
        if self.permits is not None:
            await self.permits.acquire()
        won = await commit()
        self.won.append(won)
        return won

    def forget(self) -> None:
        """Drop what the set-up recorded: only what the test does counts."""
        self.attempts.clear()
        self.won.clear()


class _Gated:
    """Passes the store's own compare-and-set through its :class:`CasGate`."""

    gate: CasGate

    async def compare_and_set(
        self, code: str, expected: int, version: int, *args: Any, **kwargs: Any
    ) -> bool:
        store = super()
        return await self.gate.around(
            expected,
            version,
            lambda: store.compare_and_set(code, expected, version, *args, **kwargs),  # type: ignore[attr-defined]
        )


class GatedMemoryStore(_Gated, MemorySessionStore):
    def __init__(self, gate: CasGate) -> None:
        super().__init__()
        self.gate = gate


class GatedRedisStore(_Gated, RedisSessionStore):
    """The Redis store, on the real Redis, with its compare-and-set behind a gate."""

    def __init__(self, gate: CasGate, prefix: str) -> None:
        super().__init__(connect_redis(REDIS_URL), prefix=prefix)
        self.gate = gate


def _redis_service(prefix: str, gate: CasGate) -> SessionService:
    """A scale-out process's service (as ``make_service`` builds it) on a gated Redis store."""
    settings = PlatformSettings(redis_url=REDIS_URL, redis_prefix=prefix)
    store = GatedRedisStore(gate, prefix)
    return SessionService(
        cartridges=DISCOVERY,
        store=store,
        deadlines=RedisDeadlines(store.redis, prefix=prefix, ttl=settings.game_ttl),
        settings=settings,
        channel_prefix=f"{prefix}:",
    )


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, Any], list[str]]] = []

    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None:
        self.messages += [(msgspec.json.decode(data), channels) for data, channels in messages]


class FreezeCounter(MemoryAudienceCounter):
    """The memory audience counter, recording which tallies each ``freeze`` froze."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen: list[list[str]] = []

    async def freeze(self, code: str, tallies: Iterable[OpenTally]) -> dict[str, dict[str, int]]:
        tallies = list(tallies)
        self.frozen.append([t.name for t in tallies])
        return await super().freeze(code, tallies)


def _service(
    store: SessionStore, counter: AudienceCounter | None = None
) -> tuple[SessionService, Recorder]:
    recorder = Recorder()
    service = SessionService(
        cartridges=DISCOVERY,
        store=store,
        publisher=recorder,
        deadlines=LocalDeadlines(),
        settings=PlatformSettings(),
        counter=counter,
    )
    return service, recorder


async def _game(service: SessionService, players: int = 4) -> tuple[str, list[str]]:
    code, host = await service.create("rps", {"rounds": 3, "throw_seconds": 60})
    ids = [(await service.join(code, f"P{i}"))[0] for i in range(players)]
    await service.control(code, host, "play")
    return code, ids


def _throw(move: str) -> dict[str, str]:
    return {"type": "throw", "move": move}


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``condition()`` holds (a Redis round trip may be needed first)."""
    end = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < end, "timed out waiting"
        await asyncio.sleep(0.001)


async def _settle() -> None:
    """Let every task that can run, run (to its next wait)."""
    for _ in range(20):
        await asyncio.sleep(0)


class Room(NamedTuple):
    gate: CasGate
    service: SessionService
    recorder: Recorder
    code: str
    players: list[str]
    start: int  # the version once the game has started


async def _room() -> Room:
    """A game of rock-paper-scissors with four players, on a gated memory store."""
    gate = CasGate()
    service, recorder = _service(GatedMemoryStore(gate))
    code, players = await _game(service)
    start, _ = await _state(service, code)
    gate.forget()
    return Room(gate, service, recorder, code, players, start)


async def _hold_first(
    service: SessionService, gate: CasGate, code: str, player: str
) -> asyncio.Task[Any]:
    """Close the gate and start ``player``'s throw (rock): it stays in its compare-and-set
    until the test lets it through, so the next inputs of the room wait for it."""
    gate.close()
    first = asyncio.create_task(service.act(code, player, _throw("rock")))
    await _settle()
    return first


async def _state(service: SessionService, code: str) -> tuple[int, dict[str, str]]:
    _, table = await service.load(code)
    return table.version, dict(table.state.throws)


async def test_inputs_that_wait_commit_together_each_with_its_own_version() -> None:
    gate, service, recorder, code, (p0, p1, p2, _), start = await _room()
    recorder.messages.clear()

    first = await _hold_first(service, gate, code, p0)
    waiting = [
        asyncio.create_task(service.act(code, p1, _throw("paper"))),
        asyncio.create_task(service.act(code, p1, _throw("scissors"))),  # a second throw
        asyncio.create_task(service.act(code, p2, _throw("scissors"))),
    ]
    await _settle()
    assert len(gate.attempts) == 1  # the three wait for p0's transition
    gate.let_through(10)
    step0 = await first
    step1, refused, step2 = await asyncio.gather(*waiting, return_exceptions=True)

    # One compare-and-set for p0, one for the three that waited: versions start+1 … start+3.
    assert gate.attempts == [(start, start + 1), (start + 1, start + 3)]
    assert isinstance(refused, InvalidAction)
    assert refused.code == "already_thrown"
    # Each step has its own table at its own version, not the batch's last one.
    assert [s.table.version for s in (step0, step1, step2)] == [start + 1, start + 2, start + 3]
    assert step1.table.state.throws == {p0: "rock", p1: "paper"}
    # The refused throw left nothing behind, not even the version it had taken.
    assert await _state(service, code) == (
        start + 3,
        {p0: "rock", p1: "paper", p2: "scissors"},
    )
    # Every version went out once, in order, with its own input's event.
    thrown = [(m["version"], m["player_id"]) for m, _ in recorder.messages]
    assert thrown == [(start + 1, p0), (start + 2, p1), (start + 3, p2)]
    assert service._waiting == {}


async def test_the_next_batch_starts_in_the_turn_its_transition_ends() -> None:
    """The inputs that waited go to their compare-and-set before the transition they waited
    for has even returned to its caller: no turn of the event loop in between, which on a
    busy loop every waiting input would pay."""
    gate, service, _, code, (p0, p1, p2, _), start = await _room()
    order: list[str] = []
    attempted = gate.around

    async def around(expected: int, version: int, commit: Callable[[], Awaitable[bool]]) -> bool:
        order.append(f"compare-and-set {expected}->{version}")
        return await attempted(expected, version, commit)

    gate.around = around  # type: ignore[method-assign]

    async def first_caller() -> None:
        await service.act(code, p0, _throw("rock"))
        order.append("first returned")

    gate.close()
    first = asyncio.create_task(first_caller())
    await _settle()
    waiting = [
        asyncio.create_task(service.act(code, p1, _throw("paper"))),
        asyncio.create_task(service.act(code, p2, _throw("scissors"))),
    ]
    await _settle()
    gate.let_through(1)  # the first only: the batch stays in its compare-and-set
    await first
    assert order == [
        f"compare-and-set {start}->{start + 1}",
        f"compare-and-set {start + 1}->{start + 3}",
        "first returned",
    ]
    gate.let_through(1)
    steps = await asyncio.gather(*waiting)
    assert [step.table.version for step in steps] == [start + 2, start + 3]
    assert service._batches == set()
    assert service._waiting == {}


async def test_a_batch_that_loses_its_compare_and_set_is_judged_again_on_the_newer_record(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
) -> None:
    """Two processes on the real Redis: while this one's batch waits in its compare-and-set,
    the other commits; the batch loses and every input in it is judged again."""
    gate = CasGate()
    service, other = _redis_service(redis_cleanup, gate), make_service(redis_cleanup)
    try:
        code, (p0, p1, p2, p3) = await _game(service)
        start, _ = await _state(service, code)
        gate.forget()

        first = await _hold_first(service, gate, code, p0)
        waiting = [
            asyncio.create_task(service.act(code, p1, _throw("paper"))),
            asyncio.create_task(service.act(code, p2, _throw("paper"))),
        ]
        await _settle()
        gate.let_through(1)  # p0 commits; the batch of p1 and p2 reaches its compare-and-set
        await first
        await _until(lambda: len(gate.attempts) == 2)
        assert gate.attempts[-1] == (start + 1, start + 3)
        # Meanwhile the other process commits p3's throw and p1's (another move).
        await other.act(code, p3, _throw("scissors"))
        await other.act(code, p1, _throw("rock"))
        gate.let_through(10)
        refused, step2 = await asyncio.gather(*waiting, return_exceptions=True)

        # The batch lost, was judged again on the newer record: p1 had thrown by then.
        assert gate.attempts == [(start, start + 1), (start + 1, start + 3), (start + 3, start + 4)]
        assert gate.won == [True, False, True]
        assert isinstance(refused, InvalidAction)
        assert refused.code == "already_thrown"
        assert step2.table.version == start + 4
        assert await _state(service, code) == (
            start + 4,
            {p0: "rock", p3: "scissors", p1: "rock", p2: "paper"},
        )
    finally:
        await service.store.close()
        await other.store.close()


async def test_a_waiting_input_whose_caller_gave_up_is_never_applied() -> None:
    gate, service, _, code, (p0, p1, p2, _), start = await _room()

    first = await _hold_first(service, gate, code, p0)
    gone = asyncio.create_task(service.act(code, p1, _throw("paper")))
    stays = asyncio.create_task(service.act(code, p2, _throw("paper")))
    await _settle()
    gone.cancel()
    gate.let_through(10)
    await first
    assert (await stays).table.version == start + 2
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await _state(service, code) == (start + 2, {p0: "rock", p2: "paper"})


async def test_an_error_that_ends_a_batch_reaches_every_input_in_it() -> None:
    """The room closes (its record is deleted) while p0's transition is in flight and two
    inputs wait for it: p0's compare-and-set loses, and p0 and both waiting inputs get
    ``SessionNotFound``, the waiting ones from their batch's load. Nothing is left behind."""
    gate, service, _, code, (p0, p1, p2, _), _ = await _room()

    first = await _hold_first(service, gate, code, p0)
    waiting = [asyncio.create_task(service.act(code, p, _throw("paper"))) for p in (p1, p2)]
    await _settle()
    await service.store.delete(code)
    gate.let_through(10)
    results = await asyncio.gather(first, *waiting, return_exceptions=True)
    assert [type(r) for r in results] == [SessionNotFound] * 3
    assert gate.won == [False]  # p0's; the batch never got as far as a compare-and-set
    assert service._waiting == {}
    assert service._batches == set()


async def test_an_input_in_a_batch_that_ends_a_tally_phase_brings_the_final_counts() -> None:
    """The guess deadline closes the audience's tallies: on its first try it asks for their
    final counts, the service freezes them, and the whole batch runs again with them."""
    counter = FreezeCounter()
    gate = CasGate()
    service, recorder = _service(GatedMemoryStore(gate), counter)
    code, host = await service.create("weirsoe_lies")
    p0, p1, _ = [(await service.join(code, f"P{i}"))[0] for i in range(3)]
    await service.control(code, host, "play")
    _, table = await service.load(code)
    assert table.deadline is not None
    await service.fire(code, table.deadline.key, table.deadline.serial)  # lies over: guess
    _, table = await service.load(code)
    guess, start = table.deadline, table.version
    assert guess is not None
    assert guess.key.endswith(":guess")
    assert "truth" in table.tallies
    await counter.add_member(code, "hash", "m1", 60)
    assert await counter.vote(code, "m1", "truth", table.tallies["truth"].choices[0])
    recorder.messages.clear()
    gate.forget()

    gate.close()
    first = asyncio.create_task(service.presence(code, p0, True))
    await _settle()
    fired = asyncio.create_task(service.fire(code, guess.key, guess.serial))
    back = asyncio.create_task(service.presence(code, p1, True))
    await _settle()
    gate.let_through(10)
    await first
    assert await fired is True
    await back

    assert counter.frozen == [["truth", "react"]]  # once, before the batch ran again
    _, table = await service.load(code)
    assert service.runtimes["weirsoe_lies"].driver.phase(table.state) == "reveal"
    assert all(seat.connected for seat in table.players if seat.id in (p0, p1))
    # Two compare-and-sets: p0's presence, then the deadline (with the tallies' versions
    # before it) and p1's presence together; every version went out once, in order.
    assert len(gate.attempts) == 2
    assert gate.attempts[1] == (start + 1, table.version)
    versions = [m["version"] for m, _ in recorder.messages]
    assert versions == list(range(start + 1, table.version + 1))


async def test_joins_racing_on_redis_share_compare_and_sets(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
) -> None:
    """On Redis every compare-and-set is a round trip, so eight joins sent at once meet a
    transition in flight and wait for it: far fewer compare-and-sets than joins, none lost."""
    gate = CasGate()
    service = _redis_service(redis_cleanup, gate)
    try:
        code, _ = await service.create("weirsoe_lies")
        joins = await asyncio.gather(*(service.join(code, f"P{i}") for i in range(8)))
        assert len({pid for pid, _, _ in joins}) == 8
        _, table = await service.load(code)
        assert table.version == 8
        assert [s.name for s in table.players] == [f"P{i}" for i in range(8)]
        assert all(gate.won)  # no compare-and-set lost
        assert len(gate.won) <= 3
    finally:
        await service.store.close()
