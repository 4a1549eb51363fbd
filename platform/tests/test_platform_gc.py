"""The garbage-collector steward of ``weirsoe serve`` (weirsoe_platform._gc): steps that freeze
what is new without walking it, CPython's own collections off, and full collections only when
the heap grows."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from weirsoe_platform._gc import MAX_GROWTH, NO_AUTOMATIC, CollectorSteward
from weirsoe_platform.cli._serve import freeze_startup_heap, steward_hooks
from weirsoe_platform.config import settings_from_env
from weirsoe_sdk import InvalidSettings


class Node:
    def __init__(self) -> None:
        self.other: object = self  # a reference cycle: only the collector can free it


@pytest.fixture(autouse=True)
def _thaw() -> Iterator[None]:
    """No automatic collection in between (it could free a test's cycle early), and the test
    process's collector left as it was: enabled, nothing frozen."""
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()


def _frozen(obj: object) -> bool:
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


class Heap:
    """A stand-in for ``sys.getallocatedblocks`` that the test sets."""

    def __init__(self, blocks: int) -> None:
        self.blocks = blocks

    def __call__(self) -> int:
        return self.blocks


def test_a_step_freezes_what_is_new_and_walks_nothing() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    alive = Node()
    dead = weakref.ref(Node())  # a cycle that is garbage already
    assert dead() is not None  # not freed by reference counting
    assert not _frozen(alive)
    collections = gc.get_stats()
    assert steward.step() is False
    assert gc.get_stats() == collections, "a step runs no collection of any generation"
    assert _frozen(alive), "what is new is frozen: later collections skip it"
    assert dead() is not None, "a new cycle waits, frozen, for the next full collection"
    heap.blocks = 1251
    assert steward.step() is True
    assert dead() is None, "the full collection frees it"
    assert _frozen(alive), "and freezes the survivors again"
    assert steward.full_collections == 2


def test_cycles_frozen_alive_are_freed_once_the_heap_grew_by_a_quarter() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    node = Node()
    steward.step()
    assert _frozen(node)
    ref = weakref.ref(node)
    del node  # now garbage, but frozen: cheap steps leave it
    heap.blocks = 1250
    assert steward.step() is False
    assert ref() is not None
    heap.blocks = 1251
    assert steward.step() is True
    assert ref() is None, "a full collection frees cycles among frozen objects"
    assert steward.full_collections == 2
    assert gc.get_freeze_count() > 0, "the survivors of the full collection are frozen again"


def test_the_threshold_follows_the_heap_down() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    heap.blocks = 600  # rooms closed
    assert steward.step() is False
    heap.blocks = 751  # a quarter more than the smallest heap since the last full collection
    assert steward.step() is True
    heap.blocks = 751
    assert steward.step() is False  # measured afresh after the full collection


class Readings:
    """A stand-in for ``sys.getallocatedblocks`` that returns the given readings in turn."""

    def __init__(self, *blocks: int) -> None:
        self.blocks = list(blocks)

    def __call__(self) -> int:
        return self.blocks.pop(0)


def test_full_collections_that_free_little_wait_for_more_growth_up_to_a_bound() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    assert steward.bound == 0.25
    heap.blocks = 1251  # live data: the full collection frees nothing
    assert steward.step() is True
    assert steward.bound == 0.5
    heap.blocks = 1876  # 1251 * 1.5
    assert steward.step() is False
    heap.blocks = 1877
    assert steward.step() is True
    assert steward.bound == 1.0
    heap.blocks = 3755
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH
    heap.blocks = 3755 * 3 + 1
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH, "never more than MAX_GROWTH"
    assert steward.full_collections == 5


def test_a_full_collection_that_frees_most_of_the_growth_goes_back_to_the_quarter() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    heap.blocks = 1251
    assert steward.step() is True
    assert steward.bound == 0.5  # freed nothing
    # Read before the full collection (1877), then after it (1130): 747 blocks freed of 626 grown.
    steward._blocks = Readings(1877, 1130)
    assert steward.step() is True
    assert steward.bound == 0.25
    steward._blocks = Readings(1413, 1413)  # 1130 * 1.25 = 1412.5
    assert steward.step() is True


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        CollectorSteward(interval=0)
    with pytest.raises(ValueError, match="growth"):
        CollectorSteward(growth=0)
    with pytest.raises(ValueError, match="growth"):
        CollectorSteward(growth=MAX_GROWTH + 1)
    with pytest.raises(InvalidSettings, match="gc_interval"):
        settings_from_env({"gc_interval": -1}, environ={})
    with pytest.raises(InvalidSettings, match="WEIRSOE_GC_INTERVAL"):
        settings_from_env(environ={"WEIRSOE_GC_INTERVAL": "soon"})
    assert settings_from_env(environ={"WEIRSOE_GC_INTERVAL": "0"}).gc_interval == 0


def test_serve_runs_the_steward_until_shutdown() -> None:
    assert steward_hooks(0) == (freeze_startup_heap, None)
    started, stopped = steward_hooks(0.01)
    steward = started.__self__
    assert isinstance(steward, CollectorSteward)

    before = gc.get_threshold()
    assert before[0] != NO_AUTOMATIC

    async def serve_briefly() -> None:
        started()
        assert steward.full_collections == 1  # start-up: collect everything, then freeze
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (NO_AUTOMATIC, *before[1:]), "CPython's collections off"
        for _ in range(500):
            if steward.steps >= 2:
                break
            await asyncio.sleep(0.01)
        await stopped()
        steps = steward.steps
        await asyncio.sleep(0.05)
        assert steward.steps == steps, "no step after shutdown"

    asyncio.run(serve_briefly())
    assert steward.steps >= 2
    assert gc.get_threshold() == before, "restored at shutdown"
