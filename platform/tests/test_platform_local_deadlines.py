"""Embedded-mode deadlines (``timers/_local.py``): every deadline fires once, at its time, in
this process; a burst beyond ``TASKS`` running batches goes through taskiq's in-memory broker;
``fire_direct=False`` sends every batch through it; a firing that raises stops no other."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

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
        # One deadline per turn of the loop: each is a batch of its own, held while firing.
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
        assert deadlines.fired_here + deadlines.kicked == 1
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
