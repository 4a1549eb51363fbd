"""Keeping CPython's full garbage collections off a busy server's event loop.

A full collection walks every tracked object. With 1,000 rooms × 9 sockets a ``serve`` process
holds about 1.2 million of them (131 per socket: the suspended ASGI stack and its buffers), and
one full collection stalls every socket of the process for about a second on a 2-core machine
(docs/performance.md, "Issue 14, third pass"). CPython starts one whenever the objects promoted
to its oldest generation since the last one reach a quarter of that generation, *whether or not
they are still alive*: the churn of medium-lived objects (a decoded record evicted from a cache,
a message a slow socket held) sets it off on a server whose heap is not growing at all.

:class:`CollectorSteward` replaces CPython's automatic collections while ``serve`` runs:

- every ``interval`` seconds it calls :func:`gc.freeze`, which moves everything new into the
  frozen heap that collections skip. It walks nothing and costs microseconds. It used to
  collect the two young generations first (:func:`gc.collect` of generation 1), which found
  almost nothing to free: in a 52-second probe of 562 rooms on Redis, CPython's young
  collections and the steps ran 2,788 times for 1.9 s of the event loop's time, freed 4,065
  objects in all, and late in the probe each took up to 64 ms, because what they walked was alive:
  every socket's pending receive (coroutines, frames, futures) and every room's current
  state, all younger than a few seconds (docs/performance.md, section 49);
- CPython's own collections, young and full, are off while the steward runs (the youngest
  generation's threshold set to 0, restored at :meth:`stop`). In CPython 3.11 their trigger
  counts allocations minus deallocations of *any* tracked object, so the young generations of
  a busy server hold tens of thousands of live objects by the time one runs;
- a full collection of everything (:func:`gc.unfreeze`, :func:`gc.collect`, freeze again) runs
  only when the heap has grown by a quarter (``growth``) since its smallest size after the last
  one, as :func:`sys.getallocatedblocks` counts it: the same bound on uncollected garbage as
  CPython's own rule for its oldest generation, measured on what is alive instead of on what
  was promoted;
- a full collection that freed less than half of the growth that set it off found a heap that
  grew with live data (rooms starting, sockets connecting), and the next one waits for twice
  that growth, up to ``MAX_GROWTH``; one that freed at least half goes back to ``growth``. At
  700 rooms starting their games, three full collections in 6 s freed 51, 71 and 37 blocks of
  1-2.4 million and stalled every socket for 240, 440 and 650 ms (docs/performance.md,
  section 24).

Frozen objects are still freed by reference counting the moment they are unreferenced, which
is how nearly everything a server makes dies. What a freeze delays is only a *reference cycle*:
it is freed by the next full collection, at the latest once it and its like make the heap a
quarter larger (up to ``MAX_GROWTH`` after collections that found the growth alive). Memory
stays bounded by the heap's live size; a process that makes cycles fast pays for them in full
collections instead of young ones.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import Callable

from ._tasks import cancel_and_wait

__all__ = ["CollectorSteward"]

log = logging.getLogger("weirsoe.gc")
MAX_GROWTH = 2.0  # the most the heap may grow before a full collection: to three times its size
NO_AUTOMATIC = 0  # the youngest generation's threshold that turns CPython's collections off


class CollectorSteward:
    """See the module docstring. ``blocks`` measures the heap (for tests)."""

    def __init__(
        self,
        *,
        interval: float = 2.0,
        growth: float = 0.25,
        blocks: Callable[[], int] = sys.getallocatedblocks,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        if not 0 < growth <= MAX_GROWTH:
            raise ValueError(f"growth must be above 0 and at most {MAX_GROWTH}")
        self.interval = interval
        self.growth = growth
        self.bound = growth  # the growth that sets off the next full collection
        self._blocks = blocks
        self._low = 0  # the heap's smallest size since the last full collection
        self._thresholds: tuple[int, int, int] | None = None  # CPython's, while we run
        self.steps = 0
        self.full_collections = 0
        self._task: asyncio.Task[None] | None = None

    # -- the policy (synchronous: it runs on the event loop between callbacks) ----------------
    def collect_all(self) -> float:
        """A full collection of everything, then freeze the survivors. Returns its seconds."""
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._low = self._blocks()
        self.full_collections += 1
        return time.perf_counter() - started

    def step(self) -> bool:
        """Freeze what is new; a full collection if the heap grew by ``growth``. Returns
        whether it ran a full collection."""
        self.steps += 1
        gc.freeze()  # walks nothing: new cycles wait for the next full collection
        blocks = self._blocks()
        if blocks <= self._low * (1 + self.bound):
            self._low = min(self._low, blocks)
            return False
        frozen = gc.get_freeze_count()
        low = self._low
        seconds = self.collect_all()
        freed = blocks - self._low
        if 2 * freed >= blocks - low:  # the growth was mostly garbage
            self.bound = self.growth
        else:  # mostly live data: let it grow further before the next full collection
            self.bound = min(2 * self.bound, MAX_GROWTH)
        log.info(
            "full garbage collection: %d objects, %.0f ms; the heap grew to %d blocks, %d "
            "freed; the next at %.0f %% more",
            frozen,
            seconds * 1000,
            blocks,
            freed,
            100 * self.bound,
        )
        return True

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Freeze what start-up left (after one full collection), then step every interval;
        CPython's own collections are off until :meth:`stop`."""
        self.collect_all()
        if self._thresholds is None:
            self._thresholds = _, middle, oldest = gc.get_threshold()
            gc.set_threshold(NO_AUTOMATIC, middle, oldest)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gc-steward")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.step()
            except Exception:  # never let bookkeeping take the server down
                log.exception("garbage collection step failed")
