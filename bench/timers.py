"""Phase-timer lateness: 1,000 rooms with concurrent deadlines, in-process and on Redis.

Lateness is the time from a deadline to the committed transition it caused. Prints a
Markdown table and writes bench/results/timers.json. Loopback only; bounded in count and time.

Each room's deadline is 2 s after it starts, plus a random share of the row's spread. The
rooms start together, so with no spread the deadlines fall due as fast as the rooms start
("all at once": 30-40 ms in-process, and on Redis since store calls are pipelined; about 0.9 s
before that). The "due within" column is the time from the first deadline to the last.

    python3 -m uv run python bench/timers.py [--rooms 1000] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.sessions import MemorySessionStore, SessionService
from weirsoe_platform.timers import LocalDeadlines
from weirsoe_sdk import discover_cartridges

os.environ.setdefault("WEIRSOE_TEST_CARTRIDGES", "1")  # the test-only rps cartridge times here

DISCOVERY = discover_cartridges()


class NullPublisher:
    async def publish(self, messages: list[tuple[bytes, list[str]]]) -> None:
        return None


class Lateness:
    """Wraps ``SessionService.fire``: for every firing that changed state, how late it was
    (the service itself keeps no such buffer; this is a benchmark's instrument)."""

    def __init__(self, service: SessionService) -> None:
        self.service = service
        self.samples: list[float] = []
        self.due: list[float] = []

    async def fire(self, code: str, key: str, serial: int, at: float | None = None) -> bool:
        changed = await self.service.fire(code, key, serial, at)
        if changed and at is not None:
            self.samples.append(self.service.clock() - at)
            self.due.append(at)
        return changed


async def _run_rooms(
    service: SessionService, late: Lateness, rooms: int, spread: float, timeout: float
) -> None:
    import random

    rng = random.Random(7)
    codes = []
    for _ in range(rooms):
        seconds = 2.0 + rng.uniform(0, spread)
        code, host = await service.create("rps", {"throw_seconds": seconds, "rounds": 1})
        await service.join(code, "A")
        await service.join(code, "B")
        codes.append((code, host))
    await asyncio.gather(*(service.control(code, host, "play") for code, host in codes))
    end = time.monotonic() + timeout
    while len(late.samples) < rooms and time.monotonic() < end:
        await asyncio.sleep(0.05)


def _figures(name: str, late: Lateness, rooms: int) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in late.samples)
    if not ms:
        return {"path": name, "rooms": rooms, "fired": 0}
    return {
        "path": name,
        "rooms": rooms,
        "fired": len(ms),
        "due_within_ms": round((max(late.due) - min(late.due)) * 1000),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
    }


async def in_process(rooms: int, spread: float) -> dict[str, Any]:
    timers = LocalDeadlines()
    service = SessionService(
        cartridges=DISCOVERY,
        store=MemorySessionStore(),
        publisher=NullPublisher(),
        deadlines=timers,
        settings=PlatformSettings(),
    )
    late = Lateness(service)
    timers.bind(late.fire)
    await timers.start()
    try:
        await _run_rooms(service, late, rooms, spread, 30 + spread)
    finally:
        await timers.stop()
    return _figures("in-process (asyncio timers, fired in the process)", late, rooms)


async def on_redis(rooms: int, url: str, spread: float) -> dict[str, Any]:
    from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
    from weirsoe_platform.timers import RedisDeadlines, TimerWorker, make_broker

    prefix = f"wbench-{uuid.uuid4().hex[:8]}"
    redis = connect_redis(url)
    settings = PlatformSettings(redis_url=url, redis_prefix=prefix)
    deadlines = RedisDeadlines(redis, prefix=prefix, ttl=600)
    service = SessionService(
        cartridges=DISCOVERY,
        store=RedisSessionStore(redis, prefix=prefix),
        deadlines=deadlines,
        settings=settings,
        channel_prefix=f"{prefix}:",
    )
    late = Lateness(service)
    worker = TimerWorker(
        deadlines=deadlines,
        broker=make_broker(url, prefix=prefix),
        fire=late.fire,
        wake_url=url,  # as `serve --with-worker` and `weirsoe worker` wire it
    )
    await worker.start()
    try:
        await _run_rooms(service, late, rooms, spread, 60 + spread)
    finally:
        await worker.stop()
        async for key in redis.scan_iter(f"{prefix}:*"):
            await redis.delete(key)
        await redis.aclose()
    return _figures("Redis (sorted set + pump; taskiq stream beyond 8 chunks)", late, rooms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument(
        "--spread",
        type=float,
        default=10.0,
        help="seconds over which the 'spread' run's deadlines fall",
    )
    args = parser.parse_args()
    rows = []
    for load, spread in (
        ("burst: all due within ~1 s", 1.0),
        ("all at once", 0.0),
        (f"spread over {args.spread:g} s", args.spread),
    ):
        row = asyncio.run(in_process(args.rooms, spread))
        rows.append({**row, "load": load})
        if not args.no_redis:
            try:
                row = asyncio.run(on_redis(args.rooms, args.redis, spread))
            except Exception as exc:  # report, do not hide: the row says why it is missing
                row = {
                    "path": "Redis",
                    "rooms": args.rooms,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            rows.append({**row, "load": load})
    print(f"\nTimer lateness, {args.rooms} rooms, one deadline each (loopback, one process)\n")
    print("| load | path | due within ms | fired | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['load']} | {r['path']} | {r.get('due_within_ms', '-')} | "
            f"{r.get('fired', '-')} | {r.get('p50_ms', '-')} | {r.get('p99_ms', '-')} | "
            f"{r.get('max_ms', r.get('error', '-'))} |"
        )
    out = Path(__file__).parent / "results" / "timers.json"
    out.write_text(json.dumps({"when": time.time(), "rows": rows}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
