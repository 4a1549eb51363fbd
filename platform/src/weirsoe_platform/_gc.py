"""Keeping CPython's full garbage collections off a busy server's event loop.

A full collection walks every tracked object. With 1,000 rooms × 9 sockets a ``serve`` process
holds about 1.1 million of them (107 per socket: the suspended ASGI stack and its buffers), and
one full collection stalls every socket of the process for about a second on a 2-core machine
(docs/performance.md, "Issue 14, third pass"). CPython starts one whenever the objects promoted
to its oldest generation since the last one reach a quarter of that generation, *whether or not
they are still alive*: the churn of medium-lived objects (a decoded record evicted from a cache,
a message a slow socket held) sets it off on a server whose heap is not growing at all.

:class:`CollectorSteward` takes over CPython's collections while ``serve`` runs:

- every ``interval`` seconds it calls :func:`gc.freeze`, which moves everything new into the
  frozen heap that collections skip, after a collection of the two young generations *while
  those find something*. On a server at steady load they find almost nothing: in a 52-second
  probe of 562 rooms on Redis, CPython's young collections and the steps ran 2,788 times for
  1.9 s of the event loop's time, freed 4,065 objects in all, and late in the probe each took
  up to 64 ms, because what they walked was alive: every socket's pending receive
  (coroutines, frames, futures) and every room's current state (docs/performance.md, section
  49). Where a server makes cycles that die young, they free them; without them those would
  wait, frozen, for full collections of about half a second each. Closed sockets made such
  cycles (1.5 million objects a minute at 460 sockets a second) until they were broken at
  the connection's end (section 52);
- so young collections (CPython's own, and one at each step) stay on while an interval's
  found at least ``YOUNG_WORTH`` unreachable objects, and go off (the youngest generation's
  threshold set to 0) after one that found fewer. While off, every 1, 2, 4 …
  ``MAX_SAMPLE_EVERY`` steps a young collection samples what dies young: ``SAMPLE_SHARE`` of
  an interval after the step's freeze (:meth:`sample`), so it walks only what that short
  window made and kept, not an interval's worth. One that finds unreachable objects at the
  rate of ``YOUNG_WORTH`` an interval turns them back on. (A sample of a whole interval
  walked everything a 1,000-room server made and kept in 2 s: 40-70 ms in one piece, and
  190-315 ms while sockets connected; docs/performance.md, section 58.) CPython's own full
  collections are always off while the steward runs; all thresholds are restored at
  :meth:`stop`;
- a full collection of everything (:func:`gc.unfreeze`, :func:`gc.collect`, freeze again) runs
  only when the heap has grown by a quarter (``growth``) since its smallest size after the last
  one, as :func:`sys.getallocatedblocks` counts it: the same bound on uncollected garbage as
  CPython's own rule for its oldest generation, measured on what is alive instead of on what
  was promoted;
- a full collection measures what share of the growth that set it off was garbage, and the
  next one comes when garbage made at that share would reach ``growth`` of the heap again:
  after ``growth / share`` of growth, from ``growth`` (it was all garbage) up to
  ``MAX_GROWTH``. One that found a heap grown with live data (rooms starting, sockets
  connecting) goes straight to ``MAX_GROWTH``. At 700 rooms starting their games, three full
  collections in 6 s freed 51, 71 and 37 blocks of 1-2.4 million and stalled every socket for
  240, 440 and 650 ms (docs/performance.md, section 24); while the bound doubled after each
  (as it did until section 55), a server filling up to 1,000 rooms stalled four times, the
  last for about 800 ms;
- growth that comes with the *population* is taken as alive. ``serve`` gives the steward one:
  the event loop's tasks (:func:`running_tasks`), two per open game socket. A full
  collection after the population grew by ``LEARN_MEMBERS`` or more measures the heap alive
  per member it gained (``per_member``); until one has, such growth sets one off at
  ``growth`` rather than at the bound, so that this first one runs early, while the heap is
  small. From then on the heap expected alive is the low plus ``per_member`` for each member
  more than at the low, and a full collection waits for growth of the bound beyond that. So
  a server filling up to 1,000 rooms collects about twice, the second time at a third of the
  heap of steady play, instead of a last collection of about a second at that heap's full
  size (docs/performance.md, section 57). What is taken as alive never exceeds what the
  last full collection found alive plus ``per_member`` for each member more than it counted:
  members leaving and coming back are not credited twice, so garbage stays bounded by the
  population alive.

Frozen objects are still freed by reference counting the moment they are unreferenced, which
is how nearly everything a server makes dies. What a freeze delays is only a *reference cycle*
that no young collection caught: it is freed by the next full collection, at the latest once
it and its like make the heap a quarter larger (up to ``MAX_GROWTH`` after collections that
found the growth alive) than the heap its population is expected to keep alive. Memory stays
bounded by the heap's live size.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import Callable

from ._tasks import cancel_and_wait

__all__ = ["CollectorSteward", "running_tasks"]

log = logging.getLogger("weirsoe.gc")
MAX_GROWTH = 2.0  # the most the heap may grow before a full collection: to three times its size
NO_AUTOMATIC_FULL = 2**30  # a threshold for the oldest generation that is never reached
NO_AUTOMATIC = 0  # the youngest generation's threshold that turns CPython's collections off
YOUNG_WORTH = 1000  # young collections of one interval that free fewer found little
MAX_SAMPLE_EVERY = 32  # the most steps between two samples while young collections are off
SAMPLE_SHARE = 0.05  # of an interval: how long after a step's freeze a sample collects
LEARN_MEMBERS = 64  # the population growth over which a full collection measures per_member


def running_tasks() -> int:
    """The population ``serve`` gives its steward: the event loop's unfinished tasks, two per
    open game socket and one per request in flight (about 5 ms at 18,000 tasks, read only
    when the heap has grown past a bound or shrunk below its low)."""
    return len(asyncio.all_tasks())


class CollectorSteward:
    """See the module docstring. ``blocks`` measures the heap (for tests)."""

    def __init__(
        self,
        *,
        interval: float = 2.0,
        growth: float = 0.25,
        blocks: Callable[[], int] = sys.getallocatedblocks,
        population: Callable[[], int] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        if not 0 < growth <= MAX_GROWTH:
            raise ValueError(f"growth must be above 0 and at most {MAX_GROWTH}")
        self.interval = interval
        self.growth = growth
        self.bound = growth  # the growth that sets off the next full collection
        self._blocks = blocks
        self._population = population or (lambda: 0)
        self._low = 0  # the heap's smallest size since the last full collection
        self._low_members = 0  # the population when the heap was ``_low``
        # The heap and the population right after the last full collection (all of it alive),
        # and the heap per member of the population that the last two measured.
        self._anchor = (0, 0)
        self.per_member = 0.0
        self.measured = False  # whether a full collection has measured ``per_member``
        self._thresholds: tuple[int, int, int] | None = None  # CPython's, while we run
        self.steps = 0
        self.full_collections = 0
        self.young_on = True  # CPython's young collections run (and each step collects young)
        self.sample_every = 1  # while off: steps between two sampling young collections
        self._since_sample = 0
        self.sample_due = False  # a step asked for a sample (:meth:`sample`), not taken yet
        self.samples = 0
        self._freed_young = 0  # unreachable objects young collections found this interval
        self._task: asyncio.Task[None] | None = None

    # -- the policy (synchronous: it runs on the event loop between callbacks) ----------------
    def collect_all(self) -> float:
        """A full collection of everything, then freeze the survivors. Returns its seconds."""
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._low = live = self._blocks()
        self._low_members = members = self._population()
        grown = members - self._anchor[1]
        if grown >= LEARN_MEMBERS:  # what the heap alive grew by per member it gained
            self.per_member = max(0, live - self._anchor[0]) / grown
            self.measured = True
        self._anchor = (live, members)
        self.full_collections += 1
        return time.perf_counter() - started

    def _count(self, phase: str, info: dict[str, int]) -> None:
        """A :data:`gc.callbacks` hook: what the young collections found unreachable."""
        if phase == "stop" and info["generation"] < 2:
            self._freed_young += info["collected"]

    def _young(self, on: bool) -> None:
        self.young_on = on
        self._since_sample = 0
        if self._thresholds is not None:  # while running: CPython's young collections too
            young, middle, _ = self._thresholds
            gc.set_threshold(young if on else NO_AUTOMATIC, middle, NO_AUTOMATIC_FULL)

    def young(self) -> None:
        """Young collections where they pay, none where they only walk the live.

        While they are on (CPython's, and one at each step) and an interval's found fewer
        than ``YOUNG_WORTH`` unreachable objects, they go off. While off, every
        ``sample_every`` steps one asks for a sample (``sample_due``: :meth:`sample`, a
        short while after the step), doubling up to ``MAX_SAMPLE_EVERY`` while the samples
        find little; one that finds more turns them back on (something makes cycles that
        die young)."""
        automatic = self._freed_young  # CPython's, since the last step
        if self.young_on:
            if automatic + gc.collect(1) < YOUNG_WORTH:
                self.sample_every = 1
                self._young(False)
        else:
            self._since_sample += 1
            if self._since_sample >= self.sample_every:
                self._since_sample = 0
                self.sample_due = True
        self._freed_young = 0  # the collections above reported themselves to _count too

    def sample(self) -> bool:
        """The young collection a step asked for (``sample_due``), run ``SAMPLE_SHARE`` of
        an interval after that step froze everything: it walks only what was made and kept
        since, and the cycles that died meanwhile are what it finds. Found at the rate of
        ``YOUNG_WORTH`` an interval, young collections go back on; else the next sample
        waits twice as many steps (up to ``MAX_SAMPLE_EVERY``). Returns whether it ran."""
        if not self.sample_due:
            return False
        self.sample_due = False
        self.samples += 1
        found = gc.collect(1)
        self._freed_young = 0  # counted here, not again at the next step
        if found >= YOUNG_WORTH * SAMPLE_SHARE:
            self._young(True)
        else:
            self.sample_every = min(2 * self.sample_every, MAX_SAMPLE_EVERY)
        return True

    def step(self) -> bool:
        """Young collections where they pay (:meth:`young`), then freeze what is left; a full
        collection if the heap grew by ``growth``. Returns whether it ran a full collection."""
        self.steps += 1
        self.young()
        gc.freeze()  # what is left in the young generations joins the frozen heap
        blocks = self._blocks()
        if blocks <= self._low * (1 + min(self.bound, self.growth)):
            if blocks < self._low:
                self._low, self._low_members = blocks, self._population()
            return False
        members = self._population()  # once per step, and only past the lower bound
        bound = self.bound
        if not self.measured and members - self._anchor[1] >= LEARN_MEMBERS:
            bound = min(bound, self.growth)  # measure it early, while the heap is small
        if blocks <= self._low * (1 + bound):
            return False
        alive = min(
            self._expected(self._low, self._low_members, members),
            self._expected(*self._anchor, members),
        )
        if blocks <= alive * (1 + bound):
            # Grown with the population: the heap it is expected to need alive is the low now.
            self._low, self._low_members = min(blocks, round(alive)), members
            return False
        frozen = gc.get_freeze_count()
        low = self._low
        seconds = self.collect_all()
        freed = blocks - self._low
        self.bound = self.next_bound(freed, blocks - low)
        log.info(
            "full garbage collection: %d objects, %.0f ms; the heap grew to %d blocks, %d "
            "freed; the next when it grows %.0f %% beyond what %d members keep alive, at "
            "%.0f blocks per member more",
            frozen,
            seconds * 1000,
            blocks,
            freed,
            100 * self.bound,
            self._low_members,
            self.per_member,
        )
        return True

    def _expected(self, live: int, then: int, members: int) -> float:
        """The heap expected alive with ``members``, from ``live`` blocks at ``then``."""
        return live + max(0, members - then) * self.per_member

    def next_bound(self, freed: int, grown: int) -> float:
        """The growth that sets off the next full collection, after one that freed ``freed``
        blocks of the ``grown`` the heap had grown by since the last: the growth at which
        garbage made at the share of growth this one found would reach ``growth`` of the
        heap, between ``growth`` (all of it was garbage) and ``MAX_GROWTH``."""
        share = freed / grown if grown > 0 else 1.0
        if share * MAX_GROWTH <= self.growth:  # none, or too little to matter before it
            return MAX_GROWTH
        return max(self.growth, self.growth / share)

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Freeze what start-up left (after one full collection), then step every interval;
        CPython's own full collections are off until :meth:`stop`, its young ones while
        they find little (:meth:`young`)."""
        self.collect_all()
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            self._young(self.young_on)
            gc.callbacks.append(self._count)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gc-steward")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
            gc.callbacks.remove(self._count)

    async def _run(self) -> None:
        window = self.interval * SAMPLE_SHARE
        wait = self.interval
        while True:
            await asyncio.sleep(wait)
            try:
                self.step()
            except Exception:  # never let bookkeeping take the server down
                log.exception("garbage collection step failed")
            wait = self.interval
            if self.sample_due:  # a short while after the step's freeze
                await asyncio.sleep(window)
                wait -= window  # the steps keep their pace
                try:
                    self.sample()
                except Exception:
                    log.exception("garbage collection sample failed")
