"""Inputs that reach one process for one room while a transition of that room is in flight
wait for it, then go into the next compare-and-set together (``SessionService._commit``).

The store here is the in-memory one with a gate in front of its compare-and-set, so that a
test can hold a transition in flight for as long as it needs; the Redis test at the end lets
the batches form on their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgspec
import pytest

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.sessions import MemorySessionStore, SessionService, StoreUnavailable
from weirsoe_platform.sessions._counter import AudienceCounter, MemoryAudienceCounter
from weirsoe_platform.timers import LocalDeadlines
from weirsoe_sdk import InvalidAction, OpenTally, discover_cartridges

DISCOVERY = discover_cartridges()


class GatedStore(MemorySessionStore):
    """The memory store, but each compare-and-set first takes a permit (``opened`` lets all
    through), and is recorded. ``share`` makes a second store over the same records: a
    second process."""

    def __init__(self) -> None:
        super().__init__()
        self.permits: asyncio.Semaphore | None = None
        self.attempts: list[tuple[int, int]] = []
        self.fail = False

    def share(self) -> GatedStore:
        other = GatedStore()
        other._items = self._items
        return other

    def close_gate(self) -> None:
        self.permits = asyncio.Semaphore(0)

    def let_through(self, n: int = 1) -> None:
        assert self.permits is not None
        for _ in range(n):
            self.permits.release()

    async def compare_and_set(self, code: str, expected: int, version: int, *args: Any) -> bool:
        self.attempts.append((expected, version))
        if self.permits is not None:
            await self.permits.acquire()
        if self.fail:
            raise ConnectionError("the store went away")
        return await super().compare_and_set(code, expected, version, *args)


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
    store: GatedStore, counter: AudienceCounter | None = None
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


async def _settle() -> None:
    """Let every task that can run, run (to its next wait)."""
    for _ in range(20):
        await asyncio.sleep(0)


class Room(NamedTuple):
    store: GatedStore
    service: SessionService
    recorder: Recorder
    code: str
    players: list[str]
    start: int  # the version once the game has started


async def _room() -> Room:
    """A game of rock-paper-scissors with four players, on a gated memory store."""
    store = GatedStore()
    service, recorder = _service(store)
    code, players = await _game(service)
    start, _ = await _state(service, code)
    return Room(store, service, recorder, code, players, start)


async def _hold_first(
    service: SessionService, store: GatedStore, code: str, player: str
) -> asyncio.Task[Any]:
    """Close the gate and start ``player``'s throw (rock): it stays in its compare-and-set
    until the test lets it through, so the next inputs of the room wait for it."""
    store.close_gate()
    first = asyncio.create_task(service.act(code, player, _throw("rock")))
    await _settle()
    return first


async def _state(service: SessionService, code: str) -> tuple[int, dict[str, str]]:
    _, table = await service.load(code)
    return table.version, dict(table.state.throws)


async def test_inputs_that_wait_commit_together_each_with_its_own_version() -> None:
    store, service, recorder, code, (p0, p1, p2, _), start = await _room()
    recorder.messages.clear()
    store.attempts.clear()

    first = await _hold_first(service, store, code, p0)
    waiting = [
        asyncio.create_task(service.act(code, p1, _throw("paper"))),
        asyncio.create_task(service.act(code, p1, _throw("scissors"))),  # a second throw
        asyncio.create_task(service.act(code, p2, _throw("scissors"))),
    ]
    await _settle()
    assert len(store.attempts) == 1  # the three wait for p0's transition
    store.let_through(10)
    step0 = await first
    step1, refused, step2 = await asyncio.gather(*waiting, return_exceptions=True)

    # One compare-and-set for p0, one for the three that waited: versions start+1 … start+3.
    assert store.attempts == [(start, start + 1), (start + 1, start + 3)]
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


async def test_a_batch_that_loses_its_compare_and_set_is_judged_again_on_the_newer_record() -> None:
    store, service, _, code, (p0, p1, p2, p3), start = await _room()
    other, _ = _service(store.share())  # a second process on the same records
    store.attempts.clear()

    first = await _hold_first(service, store, code, p0)
    waiting = [
        asyncio.create_task(service.act(code, p1, _throw("paper"))),
        asyncio.create_task(service.act(code, p2, _throw("paper"))),
    ]
    await _settle()
    store.let_through(1)  # p0 commits; the batch of p1 and p2 reaches its compare-and-set
    await first
    await _settle()
    assert store.attempts[-1] == (start + 1, start + 3)
    # Meanwhile the other process commits p3's throw and p1's (another move).
    await other.act(code, p3, _throw("scissors"))
    await other.act(code, p1, _throw("rock"))
    store.let_through(10)
    refused, step2 = await asyncio.gather(*waiting, return_exceptions=True)

    # The batch lost, was judged again on the newer record: p1 had thrown by then.
    assert store.attempts[-2:] == [(start + 1, start + 3), (start + 3, start + 4)]
    assert isinstance(refused, InvalidAction)
    assert refused.code == "already_thrown"
    assert step2.table.version == start + 4
    assert await _state(service, code) == (
        start + 4,
        {p0: "rock", p3: "scissors", p1: "rock", p2: "paper"},
    )


async def test_a_waiting_input_whose_caller_gave_up_is_never_applied() -> None:
    store, service, _, code, (p0, p1, p2, _), start = await _room()

    first = await _hold_first(service, store, code, p0)
    gone = asyncio.create_task(service.act(code, p1, _throw("paper")))
    stays = asyncio.create_task(service.act(code, p2, _throw("paper")))
    await _settle()
    gone.cancel()
    store.let_through(10)
    await first
    assert (await stays).table.version == start + 2
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await _state(service, code) == (start + 2, {p0: "rock", p2: "paper"})


async def test_a_store_failure_reaches_every_input_of_the_batch_and_nothing_sticks() -> None:
    store, service, _, code, (p0, p1, p2, p3), start = await _room()

    first = await _hold_first(service, store, code, p0)
    waiting = [asyncio.create_task(service.act(code, p, _throw("paper"))) for p in (p1, p2)]
    await _settle()
    store.let_through(1)
    await first
    await _settle()
    store.fail = True
    store.let_through(10)
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [type(r) for r in results] == [StoreUnavailable, StoreUnavailable]
    assert service._waiting == {}
    # The room works on: the same inputs, sent again, commit.
    store.fail = False
    store.permits = None
    for p in (p1, p2):
        await service.act(code, p, _throw("paper"))
    await service.act(code, p3, _throw("scissors"))
    assert await _state(service, code) == (
        start + 4,
        {p0: "rock", p1: "paper", p2: "paper", p3: "scissors"},
    )


async def test_an_input_in_a_batch_that_ends_a_tally_phase_brings_the_final_counts() -> None:
    """The guess deadline closes the audience's tallies: on its first try it asks for their
    final counts, the service freezes them, and the whole batch runs again with them."""
    store, counter = GatedStore(), FreezeCounter()
    service, recorder = _service(store, counter)
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
    store.attempts.clear()

    store.close_gate()
    first = asyncio.create_task(service.presence(code, p0, True))
    await _settle()
    fired = asyncio.create_task(service.fire(code, guess.key, guess.serial))
    back = asyncio.create_task(service.presence(code, p1, True))
    await _settle()
    store.let_through(10)
    await first
    assert await fired is True
    await back

    assert counter.frozen == [["truth", "react"]]  # once, before the batch ran again
    _, table = await service.load(code)
    assert service.runtimes["weirsoe_lies"].driver.phase(table.state) == "reveal"
    assert all(seat.connected for seat in table.players if seat.id in (p0, p1))
    # Two compare-and-sets: p0's presence, then the deadline (with the tallies' versions
    # before it) and p1's presence together; every version went out once, in order.
    assert len(store.attempts) == 2
    assert store.attempts[1] == (start + 1, table.version)
    versions = [m["version"] for m, _ in recorder.messages]
    assert versions == list(range(start + 1, table.version + 1))


async def test_joins_racing_on_redis_share_compare_and_sets(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
) -> None:
    """On Redis every compare-and-set is a round trip, so eight joins sent at once meet a
    transition in flight and wait for it: far fewer compare-and-sets than joins, none lost."""
    service = make_service(redis_cleanup)
    try:
        code, _ = await service.create("weirsoe_lies")
        attempts: list[int] = []
        cas = service.store.compare_and_set

        async def counted(*args: Any) -> bool:
            won = await cas(*args)
            attempts.append(won)
            return won

        service.store.compare_and_set = counted  # type: ignore[method-assign]
        joins = await asyncio.gather(*(service.join(code, f"P{i}") for i in range(8)))
        assert len({pid for pid, _, _ in joins}) == 8
        _, table = await service.load(code)
        assert table.version == 8
        assert [s.name for s in table.players] == [f"P{i}" for i in range(8)]
        assert all(attempts)  # no compare-and-set lost
        assert len(attempts) <= 3
    finally:
        await service.store.close()
