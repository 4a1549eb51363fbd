"""A transition that ends the audience's tallies (the guess deadline of Weirsøe Lies) asks for
their final counts, and is judged again with them. On Redis it used to load the room twice
more for that: once because the first try ran on this process's cached record, once after
the counts were frozen. Now the store confirms the cached version (``load_unless``, no
record sent) and the input runs again on the same bytes (docs/performance.md, section
80). On the real Redis at 127.0.0.1:6379; the store's methods are counted, never replaced."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from weirsoe_platform.sessions import SessionService
from weirsoe_platform.sessions._redis_counter import RedisAudienceCounter
from weirsoe_platform.sessions._redis_store import RedisSessionStore
from weirsoe_sdk import OpenTally


def _scale_out(make: Callable[[str], SessionService], prefix: str) -> SessionService:
    """A scale-out process's service, with its audience counted in Redis as ``weirsoe
    serve --redis`` counts it."""
    service = make(prefix)
    store = service.store
    assert isinstance(store, RedisSessionStore)
    service.counter = RedisAudienceCounter(store.redis, prefix=prefix, fast=store.fast)
    return service


class Calls:
    """How often the service called the store's ``load`` and ``load_unless`` and the
    counter's ``freeze``, what each ``load_unless`` answered and what each ``freeze``
    froze."""

    def __init__(self, service: SessionService, monkeypatch: pytest.MonkeyPatch) -> None:
        store, counter = service.store, service.counter
        self.loads = 0
        self.confirms: list[bool] = []
        self.frozen: list[list[str]] = []
        self.counts: list[dict[str, dict[str, int]]] = []
        load, load_unless, freeze = store.load, store.load_unless, counter.freeze

        async def counted_load(code: str) -> Any:
            self.loads += 1
            return await load(code)

        async def counted_load_unless(code: str, version: int, stamp: str) -> Any:
            found = await load_unless(code, version, stamp)
            self.confirms.append(found is True)
            return found

        async def counted_freeze(code: str, tallies: Iterable[OpenTally]) -> Any:
            tallies = list(tallies)
            self.frozen.append([t.name for t in tallies])
            counts = await freeze(code, tallies)
            self.counts.append(counts)
            return counts

        monkeypatch.setattr(store, "load", counted_load)
        monkeypatch.setattr(store, "load_unless", counted_load_unless)
        monkeypatch.setattr(counter, "freeze", counted_freeze)


async def _guessing(service: SessionService) -> tuple[str, list[str], Any, str]:
    """A room of Weirsøe Lies in its guess phase, one audience member's vote cast; returns
    its code, its players, the guess deadline and the truth tally's id."""
    code, host = await service.create("weirsoe_lies", seed=11)
    players = [(await service.join(code, f"P{i}"))[0] for i in range(3)]
    await service.control(code, host, "play")
    _, table = await service.load(code)
    assert table.deadline is not None
    await service.fire(code, table.deadline.key, table.deadline.serial)  # lies over
    _, table = await service.load(code)
    assert table.deadline is not None
    assert table.deadline.key.endswith(":guess")
    truth = table.tallies["truth"]
    await service.counter.add_member(code, "hash", "m1", 60)
    assert await service.counter.vote(code, "m1", "truth", truth.choices[0])
    return code, players, table.deadline, truth.id


def _votes(calls: Calls, tally: str) -> int:
    (counts,) = calls.counts
    return sum(counts[tally].values())


def _phase(service: SessionService, table: Any) -> str:
    return str(service.runtimes["weirsoe_lies"].driver.phase(table.state))


async def test_a_cached_record_that_ends_tallies_is_confirmed_not_loaded_again(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = _scale_out(make_service, redis_cleanup)
    try:
        code, _, guess, truth = await _guessing(service)
        calls = Calls(service, monkeypatch)
        assert service.cache.get(code) is not None  # the fire above committed it here

        assert await service.fire(code, guess.key, guess.serial) is True

        assert calls.loads == 0, "the record was loaded again"
        assert calls.confirms == [True]  # one confirmation, without the record
        assert calls.frozen == [["truth", "react"]]
        _, table = await service.load(code)
        assert _phase(service, table) == "reveal"
        assert _votes(calls, truth) == 1  # the member's vote, frozen before it ran again
    finally:
        await service.store.close()


async def test_a_stale_cached_record_that_ends_tallies_is_judged_on_the_stored_one(
    redis_cleanup: str,
    make_service: Callable[[str], SessionService],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process committed after this one: the cached copy is not confirmed, and the
    store sends the stored record instead, which is judged without loading it again; the
    counts are frozen only once that record asks for them too, and what the other process
    committed stays."""
    service = _scale_out(make_service, redis_cleanup)
    other = _scale_out(make_service, redis_cleanup)
    try:
        code, players, guess, truth = await _guessing(service)
        _, before = await service.load(code)
        await other.presence(code, players[2], True)  # the other process's commit
        _, after = await other.load(code)
        assert after.version == before.version + 1
        calls = Calls(service, monkeypatch)

        assert await service.fire(code, guess.key, guess.serial) is True

        assert calls.confirms == [False]  # and the store sent the stored record instead
        assert calls.loads == 0  # judged on those bytes; the counts' run reuses them too
        assert calls.frozen == [["truth", "react"]]
        assert _votes(calls, truth) == 1
        _, table = await service.load(code)
        assert _phase(service, table) == "reveal"
        assert next(s for s in table.players if s.id == players[2]).connected
    finally:
        await service.store.close()
        await other.store.close()
