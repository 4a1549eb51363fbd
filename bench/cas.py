"""What one compare-and-set costs the Redis session store's caller, in CPU.

    uv run python bench/cas.py [--quick] [--redis URL] [--count 20000] [--in-flight 8]
                               [--record 5000]

Runs ``RedisSessionStore.compare_and_set`` against a real Redis, as the session service does
for every transition: a record of ``--record`` bytes, one wire frame to publish, and a
``committed`` callback. ``--in-flight`` rooms each run their own chain of versions at once,
so that many compare-and-sets share the pipelined connection's writes and reads, as on a busy
server; ``--in-flight 1`` pays a round trip each. The memory store runs the same calls for
comparison. Prints the process's CPU per call and the wall time; asserts nothing about time.
Loopback only; ``--count`` bounds the loop. Used for docs/performance.md, section 59.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _kit import redis_script_parser, run

from weirsoe_platform.sessions._redis_store import RedisSessionStore, connect_redis
from weirsoe_platform.sessions._store import MemorySessionStore, SessionStore


async def measure(store: SessionStore, count: int, in_flight: int, size: int) -> dict[str, Any]:
    data = os.urandom(size)
    prefix = store.prefix if isinstance(store, RedisSessionStore) else "bench"
    messages = [(b'{"type":"bench.tick","pad":"' + b"x" * 500 + b'"}', [f"{prefix}:ROOM:A"])]
    codes = [f"CAS{i}" for i in range(in_flight)]
    for code in codes:
        await store.create(code, data, 0, 600)
    committed = 0

    def done() -> None:
        nonlocal committed
        committed += 1

    async def chain(code: str) -> None:
        for version in range(count // in_flight):
            won = await store.compare_and_set(
                code, version, version + 1, data, 600, messages, None, committed=done
            )
            if not won:
                raise SystemExit(f"compare-and-set lost on {code} at version {version}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(chain(code) for code in codes))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    calls = in_flight * (count // in_flight)
    for code in codes:
        await store.delete(code)
    return {
        "calls": calls,
        "committed": committed,
        "cpu_us": cpu / calls * 1e6,
        "wall_us": wall / calls * 1e6,
    }


async def main(args: argparse.Namespace) -> int:
    load = os.getloadavg()[0]
    print(
        f"{args.count} compare-and-sets, {args.in_flight} in flight, {args.record} B records;"
        f" load average {load:.2f}"
    )
    stores: list[tuple[str, SessionStore]] = [("memory", MemorySessionStore())]
    redis = RedisSessionStore(connect_redis(args.redis), prefix=f"wcas-{uuid.uuid4().hex[:8]}")
    stores.append(("redis", redis))
    try:
        for name, store in stores:
            got = await measure(store, args.count, args.in_flight, args.record)
            print(
                f"{name:7} {got['cpu_us']:7.1f} µs CPU per call, {got['wall_us']:7.1f} µs wall"
                f" ({got['calls']} calls, {got['committed']} committed)"
            )
    finally:
        await redis.close()
    return 0


if __name__ == "__main__":
    parser = redis_script_parser(__doc__, "2,000 calls")
    parser.add_argument("--count", type=int, default=20_000, help="calls in all (default 20000)")
    parser.add_argument("--in-flight", type=int, default=8, help="rooms at once (default 8)")
    parser.add_argument("--record", type=int, default=5000, help="record bytes (default 5000)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.count = min(arguments.count, 2000)
    if not 1 <= arguments.in_flight <= 1000 or not 1 <= arguments.count <= 1_000_000:
        parser.error("--in-flight must be 1-1000 and --count 1-1000000")
    sys.exit(run(main(arguments), not arguments.no_uvloop))
