"""Embedded-mode deadlines (``timers/_local.py``): every deadline fires once, at its time, in
this process, in its timer's own callback up to its first wait; a burst beyond ``TASKS``
waiting firings goes through taskiq's in-memory broker; ``fire_direct=False`` sends every
batch through it; a firing that raises stops no other."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from weirsoe_platform.timers import LocalDeadlines
from weirsoe_platform.timers._local import TASKS


class Recorder:
    def __init__(self, hold: asyncio.Event | None = None, fail: set[str] | None = None) -> None:
        self.fired: list[tuple[str, str, int, float, float]] = []
        self.hold = hold
        self.fail = fail or set()

    async def __call__(self, code: str, key: str, serial: int, at: float) -> bool:
        if self.hold is not None:
            await self.hold.wait()
        if code in self.fail:
            raise RuntimeError(f"firing {code} broke")
        self.fired.append((code, key, serial, at, time.time()))
        return True


async def _started(deadlines: LocalDeadlines, fire: Recorder) -> LocalDeadlines:
    deadlines.bind(fire)
    await deadlines.start()
    return deadlines


async def _until(predicate: object, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:  # type: ignore[operator]
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("fire_direct", [True, False], ids=["direct", "broker"])
async def test_each_deadline_fires_once_not_before_its_time(fire_direct: bool) -> None:
    fire = Recorder()
    deadlines = await _started(LocalDeadlines(fire_direct=fire_direct), fire)
    try:
        now = time.time()
        for i in range(50):
            await deadlines.schedule(f"R{i:03d}", "end", i, now + 0.05 + (i % 5) * 0.02)
        await deadlines.schedule("GONE", "end", 1, now + 0.05)
        await deadlines.cancel("GONE")
        await deadlines.schedule("MOVED", "end", 1, now + 0.05)
        await deadlines.schedule("MOVED", "end", 2, now + 0.15)  # replaces the first
        await _until(lambda: len(fire.fired) >= 51)
        await asyncio.sleep(0.1)
        codes = Counter(code for code, *_ in fire.fired)
        assert codes == Counter({**{f"R{i:03d}": 1 for i in range(50)}, "MOVED": 1})
        assert [(s, a) for c, _, s, a, _ in fire.fired if c == "MOVED"] == [(2, now + 0.15)]
        assert all(when >= at for _, _, _, at, when in fire.fired)
        assert deadlines.pending() == 0
        if fire_direct:
            assert (deadlines.fired_here >= 1, deadlines.kicked) == (True, 0)
        else:
            assert (deadlines.fired_here, deadlines.kicked >= 1) == (0, True)
    finally:
        await deadlines.stop()


async def test_batches_beyond_tasks_go_through_the_broker_and_all_fire() -> None:
    hold = asyncio.Event()
    fire = Recorder(hold=hold)
    deadlines = await _started(LocalDeadlines(), fire)
    try:
        now = time.time()
        # One deadline per turn of the loop, each held while firing: the first TASKS wait as
        # tasks of their own, and each after them goes to the broker as a batch of one.
        for i in range(TASKS + 4):
            await deadlines.schedule(f"R{i:03d}", "end", i, now + 0.02 * (i + 1))
        await _until(lambda: deadlines.fired_here + deadlines.kicked == TASKS + 4)
        assert (deadlines.fired_here, deadlines.kicked) == (TASKS, 4)
        assert fire.fired == []  # all held
        hold.set()
        await _until(lambda: len(fire.fired) == TASKS + 4)
        assert sorted(code for code, *_ in fire.fired) == [f"R{i:03d}" for i in range(TASKS + 4)]
    finally:
        hold.set()
        await deadlines.stop()


@pytest.mark.parametrize("fire_direct", [True, False], ids=["direct", "broker"])
async def test_a_firing_that_raises_stops_no_other_in_its_batch(
    fire_direct: bool, caplog: pytest.LogCaptureFixture
) -> None:
    fire = Recorder(fail={"BAD1"})
    deadlines = await _started(LocalDeadlines(fire_direct=fire_direct), fire)
    try:
        at = time.time() + 0.05  # one time: one turn of the loop, one batch
        for code in ("OK01", "BAD1", "OK02"):
            await deadlines.schedule(code, "end", 1, at)
        await _until(lambda: len(fire.fired) == 2)
        await asyncio.sleep(0.05)
        assert sorted(code for code, *_ in fire.fired) == ["OK01", "OK02"]
        # Directly, each deadline fires on its own; through the broker, one batch.
        assert (deadlines.fired_here, deadlines.kicked) == ((3, 0) if fire_direct else (0, 1))
        assert "BAD1/end failed to fire" in caplog.text
    finally:
        await deadlines.stop()


async def test_stop_cancels_what_is_pending() -> None:
    fire = Recorder()
    deadlines = await _started(LocalDeadlines(), fire)
    await deadlines.schedule("LATE", "end", 1, time.time() + 0.2)
    assert deadlines.pending() == 1
    await deadlines.stop()
    await asyncio.sleep(0.3)
    assert fire.fired == []
    assert deadlines.pending() == 0


async def test_a_firing_runs_in_its_timers_callback_and_only_one_that_waits_gets_a_task() -> None:
    """No task per firing (docs/performance.md, section 64): a firing that never waits runs
    and finishes inside the timer's callback, outside any task; one that waits goes on as a
    task from where it stopped, and finishes when what it waits for is done."""
    hold = asyncio.Event()
    tasks: dict[str, asyncio.Task[Any] | None] = {}

    async def fire(code: str, key: str, serial: int, at: float) -> bool:
        tasks[code + ":start"] = asyncio.current_task()
        if code == "WAIT":
            await hold.wait()
        tasks[code + ":end"] = asyncio.current_task()
        return True

    deadlines = LocalDeadlines()
    deadlines.bind(fire)
    await deadlines.start()
    try:
        at = time.time() + 0.02
        await deadlines.schedule("FAST", "end", 1, at)
        await deadlines.schedule("WAIT", "end", 1, at)
        await _until(lambda: "WAIT:start" in tasks and "FAST:end" in tasks)
        assert (tasks["FAST:start"], tasks["FAST:end"], tasks["WAIT:start"]) == (None, None, None)
        assert "WAIT:end" not in tasks
        assert len(deadlines._tasks) == 1
        hold.set()
        await _until(lambda: "WAIT:end" in tasks)
        assert tasks["WAIT:end"] is not None  # finished by the task that took it over
        await asyncio.sleep(0)
        assert (deadlines.fired_here, deadlines.kicked, len(deadlines._tasks)) == (2, 0, 0)
    finally:
        hold.set()
        await deadlines.stop()
