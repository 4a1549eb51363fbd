"""The garbage-collector steward of ``weirsoe serve`` (weirsoe_platform._gc): young collections
only while they free something (sampled when off), a freeze at every step, and full collections
only when the heap grows."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from weirsoe_platform._gc import (
    MAX_GROWTH,
    MAX_SAMPLE_EVERY,
    NO_AUTOMATIC,
    NO_AUTOMATIC_FULL,
    SAMPLE_SHARE,
    YOUNG_WORTH,
    CollectorSteward,
    running_tasks,
)
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


def test_a_step_frees_new_cycles_and_freezes_what_is_alive() -> None:
    steward = CollectorSteward(interval=1, blocks=Heap(1000))
    steward.collect_all()
    assert steward.young_on, "young collections start on"
    alive = Node()
    dead = weakref.ref(Node())  # a cycle that is garbage already
    assert dead() is not None  # not freed by reference counting
    assert not _frozen(alive)
    assert steward.step() is False
    assert dead() is None, "the step's young collection frees cycles made since the last step"
    assert _frozen(alive), "survivors are frozen: later collections skip them"
    assert steward.full_collections == 1  # only collect_all's


def _collections() -> list[int]:
    return [generation["collections"] for generation in gc.get_stats()]


def _beat(steward: CollectorSteward) -> None:
    """One turn of the steward's loop: a step, then the sample it asked for, if any (which
    the loop takes ``SAMPLE_SHARE`` of an interval later)."""
    steward.step()
    steward.sample()


def test_young_collections_that_find_little_go_off_and_are_sampled_ever_less_often() -> None:
    steward = CollectorSteward(interval=1, blocks=Heap(1000))
    steward.collect_all()
    steward.step()  # found a handful: fewer than YOUNG_WORTH
    assert not steward.young_on
    sampled = []
    for _ in range(2 * MAX_SAMPLE_EVERY + 10):
        before = _collections()
        _beat(steward)
        sampled.append(_collections() != before)
    steps = [i + 1 for i, s in enumerate(sampled) if s]
    assert steps[:5] == [1, 3, 7, 15, 31], "samples at doubling intervals"
    assert steps[5] == 31 + MAX_SAMPLE_EVERY, "up to MAX_SAMPLE_EVERY steps apart"
    assert steward.sample_every == MAX_SAMPLE_EVERY

    dead = weakref.ref(Node())
    before = _collections()
    _beat(steward)  # not a sampling step
    assert _collections() == before, "a step between samples runs no collection"
    assert dead() is not None, "a cycle it froze waits for a full collection"


def test_a_sample_that_finds_cycles_turns_young_collections_back_on() -> None:
    steward = CollectorSteward(interval=1, blocks=Heap(1000))
    steward.collect_all()
    steward.step()
    assert not steward.young_on
    assert steward.sample_every == 1
    steward.step()  # the sample is due
    assert steward.sample_due
    # Sockets closing, say: cycles dying at the rate of YOUNG_WORTH an interval, for the
    # sample's share of one.
    garbage = [weakref.ref(Node()) for _ in range(round(YOUNG_WORTH * SAMPLE_SHARE))]
    assert steward.sample() is True
    assert steward.young_on, "young collections that find cycles are worth their walk"
    assert all(ref() is None for ref in garbage)
    assert not steward.sample_due
    _beat(steward)  # an interval that found nothing: off again, sampled from every step
    assert not steward.young_on
    assert steward.sample_every == 1


def test_a_sample_that_finds_fewer_cycles_leaves_them_off() -> None:
    steward = CollectorSteward(interval=1, blocks=Heap(1000))
    steward.collect_all()
    steward.step()
    steward.step()
    garbage = [weakref.ref(Node()) for _ in range(round(YOUNG_WORTH * SAMPLE_SHARE) - 1)]
    assert steward.sample() is True
    assert all(ref() is None for ref in garbage), "what it found is freed all the same"
    assert not steward.young_on
    assert steward.sample_every == 2
    assert steward.sample() is False, "one sample per step that asked for it"


def test_a_sample_walks_only_what_was_made_since_the_step() -> None:
    """What made a sample cost 40-70 ms at 1,000 rooms: it walked everything the server
    made and kept during a whole interval (docs/performance.md, section 58)."""
    steward = CollectorSteward(interval=1, blocks=Heap(1000))
    steward.collect_all()
    steward.step()
    assert not steward.young_on
    kept = [Node() for _ in range(20_000)]  # an interval of a busy server's live objects
    steward.step()
    assert steward.sample_due
    assert all(_frozen(node) for node in kept[::1000]), "frozen before the sample"
    young = len(gc.get_objects(0)) + len(gc.get_objects(1))
    assert young < 1000, f"the sample would walk {young} objects"
    since = [Node() for _ in range(10)]  # what the window makes and keeps
    dead = weakref.ref(Node())
    assert steward.sample() is True
    assert dead() is None, "cycles that died since the step are freed"
    assert not any(_frozen(node) for node in since), "kept for the next step's freeze"


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


def test_a_full_collection_that_finds_live_growth_waits_for_the_most_growth() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    assert steward.bound == 0.25
    heap.blocks = 1251  # live data: the full collection frees nothing
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH, "no garbage in the growth: wait for the most growth"
    heap.blocks = 1251 * 3  # not more than MAX_GROWTH above the heap after it
    assert steward.step() is False
    heap.blocks = 1251 * 3 + 1
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH, "never more than MAX_GROWTH"
    assert steward.full_collections == 3


def test_the_next_full_collection_waits_for_the_growth_that_makes_a_quarter_of_garbage() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    # Read before the full collection (1300), then after it (1150): 150 of 300 grown was garbage.
    steward._blocks = Readings(1300, 1150)
    assert steward.step() is True
    assert steward.bound == 0.5, "half of the growth was garbage: a quarter after growing by half"
    steward._blocks = Readings(1725, 1725)  # 1150 * 1.5
    assert steward.step() is False
    # 1726 read twice: before and after the full collection, which frees nothing this time.
    steward._blocks = Readings(1726, 1726)
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH
    assert [steward.next_bound(freed, 1000) for freed in (1000, 400, 125, 0, -5)] == [
        0.25,
        0.625,
        MAX_GROWTH,
        MAX_GROWTH,
        MAX_GROWTH,
    ]
    assert steward.next_bound(0, 0) == 0.25, "a heap that did not grow: back to the quarter"


def test_a_full_collection_that_frees_most_of_the_growth_goes_back_to_the_quarter() -> None:
    heap = Heap(1000)
    steward = CollectorSteward(interval=1, blocks=heap)
    steward.collect_all()
    heap.blocks = 1251
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH  # freed nothing
    # Read before the full collection (3754), then after it (1130): all of the growth was freed.
    steward._blocks = Readings(3754, 1130)
    assert steward.step() is True
    assert steward.bound == 0.25
    steward._blocks = Readings(1413, 1413)  # 1130 * 1.25 = 1412.5
    assert steward.step() is True


class Population:
    """A stand-in for the population (``running_tasks``) that the test sets."""

    def __init__(self, members: int = 0) -> None:
        self.members = members

    def __call__(self) -> int:
        return self.members


def test_growth_that_comes_with_the_population_is_taken_as_alive() -> None:
    heap, people = Heap(1000), Population(0)
    steward = CollectorSteward(interval=1, blocks=heap, population=people)
    steward.collect_all()
    assert not steward.measured
    people.members, heap.blocks = 100, 1251  # sockets connecting: 2.51 blocks each
    assert steward.step() is True, "no heap per member measured yet: a full collection"
    assert steward.measured
    assert steward.per_member == pytest.approx(2.51)
    assert steward.bound == MAX_GROWTH  # it freed nothing
    # A thousand more members and their 2,510 blocks: past MAX_GROWTH of the heap, but what
    # the population is expected to keep alive. A steward without one would collect here.
    people.members, heap.blocks = 1100, 3761
    assert steward.step() is False
    blind = CollectorSteward(interval=1, blocks=Heap(1251))
    blind.collect_all()
    blind.bound, blind._blocks = MAX_GROWTH, Heap(3761)
    assert blind.step() is True, "the same heap without a population"
    # Growth without more members is measured from the heap expected alive (3761).
    heap.blocks = 3761 * 3
    assert steward.step() is False
    heap.blocks = 3761 * 3 + 1
    assert steward.step() is True
    assert steward.full_collections == 3


def test_a_growing_population_is_measured_early_while_the_heap_is_small() -> None:
    heap, people = Heap(1000), Population(5)
    steward = CollectorSteward(interval=1, blocks=heap, population=people)
    steward.collect_all()
    heap.blocks = 1251  # rooms made, no more members: alive, but nothing to measure
    assert steward.step() is True
    assert steward.bound == MAX_GROWTH
    assert not steward.measured
    people.members = 5 + 63
    heap.blocks = 1600
    assert steward.step() is False, "too few new members to measure: MAX_GROWTH holds"
    people.members = 5 + 64
    assert steward.step() is True, "enough to measure: at a quarter, not at MAX_GROWTH"
    assert steward.measured
    assert steward.per_member == pytest.approx((1600 - 1251) / 64)


def test_a_shrinking_population_takes_its_low_along() -> None:
    heap, people = Heap(1000), Population(0)
    steward = CollectorSteward(interval=1, blocks=heap, population=people)
    steward.collect_all()
    people.members, heap.blocks = 1000, 1251
    assert steward.step() is True  # measured: 0.251 blocks per member
    people.members, heap.blocks = 200, 1050  # most sockets closed
    assert steward.step() is False
    assert (steward._low, steward._low_members) == (1050, 200)
    # Members coming back bring their blocks back, without a full collection.
    people.members, heap.blocks = 1000, 3752  # (1050 + 800 * 0.251) * (1 + MAX_GROWTH)
    assert steward.step() is False
    assert steward._low == 1251, "the low is now what those members are expected to keep"
    heap.blocks = 1251 * 3 + 1
    assert steward.step() is True


def test_members_leaving_and_coming_back_do_not_raise_what_is_taken_as_alive() -> None:
    """Sockets closing free little of the heap at once (their cycles wait, frozen, for a full
    collection); the same number coming back must not be credited a second time, or a
    server whose sockets churn would let its garbage grow without a bound."""
    heap, people = Heap(1000), Population(0)
    steward = CollectorSteward(interval=1, blocks=heap, population=people)
    steward.collect_all()
    people.members, heap.blocks = 1000, 1251
    assert steward.step() is True  # measured: 0.251 blocks per member, alive 1251 at 1000
    for _ in range(3):
        people.members, heap.blocks = 200, 1240  # 800 leave, leaving their cycles behind
        assert steward.step() is False
        people.members, heap.blocks = 1000, 1251 * 3  # they come back: no more alive than
        assert steward.step() is False, "with the same members, within the bound"
    heap.blocks = 1251 * 3 + 1
    assert steward.step() is True, "what 1,000 members keep was measured at 1,251 blocks"


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
    assert steward._population is running_tasks, "serve counts the loop's tasks"

    before = gc.get_threshold()
    assert before[0] != NO_AUTOMATIC
    assert before[2] != NO_AUTOMATIC_FULL

    async def serve_briefly() -> None:
        started()
        assert steward.full_collections == 1  # start-up: collect everything, then freeze
        assert gc.get_freeze_count() > 0
        # CPython's full collections off, its young ones on until an interval finds little
        assert gc.get_threshold() == (*before[:2], NO_AUTOMATIC_FULL)
        assert steward._count in gc.callbacks
        for _ in range(500):
            if steward.steps >= 2:
                break
            await asyncio.sleep(0.01)
        assert not steward.young_on
        assert gc.get_threshold() == (NO_AUTOMATIC, before[1], NO_AUTOMATIC_FULL), "all off"
        for _ in range(500):  # the loop takes the samples its steps ask for
            if steward.samples >= 2:
                break
            await asyncio.sleep(0.01)
        assert steward.samples >= 2
        await stopped()
        steps = steward.steps
        await asyncio.sleep(0.05)
        assert steward.steps == steps, "no step after shutdown"

    asyncio.run(serve_briefly())
    assert steward.steps >= 2
    assert gc.get_threshold() == before, "restored at shutdown"
    assert steward._count not in gc.callbacks
