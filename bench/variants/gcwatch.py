"""``weirsoe serve`` with the garbage collector's pauses recorded, for
finding stalls (docs/performance.md):

    BENCH_GCWATCH_OUT=/tmp/gc.json uv run python bench/capacity.py --variant gcwatch ...

Every 2 s and at exit it writes, per generation, how many collections ran and their total and
longest wall and CPU time, and each full collection's time; with ``BENCH_GCWATCH_TYPES=1``, the
types the collector scans most (every 10 s). ``BENCH_GC_THRESHOLD=700,10,10`` sets the
collector's thresholds (``gc.set_threshold``) before the server starts.
"""

import atexit
import gc
import json
import os
import sys
import threading
import time
from collections import Counter

from weirsoe_platform.cli import main

if os.environ.get("BENCH_GC_THRESHOLD"):
    gc.set_threshold(*(int(x) for x in os.environ["BENCH_GC_THRESHOLD"].split(",")))

stats: dict[str, dict[str, float]] = {}
types: list[tuple[str, int]] = []
full: list[tuple[float, float, float]] = []  # (when, wall ms, CPU ms) of each full collection
# (when, generation, wall ms, objects collected) of the young collections over 20 ms
slow: list[tuple[float, int, float, int]] = []
_start: list[float] = [0.0, 0.0]


def _watch(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _start[0], _start[1] = time.perf_counter(), time.thread_time()
        return
    wall, cpu = time.perf_counter() - _start[0], time.thread_time() - _start[1]
    s = stats.setdefault(str(info["generation"]), {"n": 0, "wall": 0.0, "cpu": 0.0, "max": 0.0})
    s["n"] += 1
    s["wall"] += wall
    s["cpu"] += cpu
    s["max"] = max(s["max"], wall)
    if info["generation"] == 2:
        full.append((round(time.time(), 2), round(wall * 1000, 1), round(cpu * 1000, 1)))
    elif wall > 0.02:  # a young collection long enough to show in a p99
        slow.append(
            (round(time.time(), 2), info["generation"], round(wall * 1000, 1), info["collected"])
        )


def _dump() -> None:
    out = os.environ.get("BENCH_GCWATCH_OUT")
    if out:
        with open(out, "w") as f:
            json.dump({"gc": stats, "full": full, "slow": slow, "types": types}, f)


def _dump_every(seconds: float) -> None:
    rounds = 0
    while True:
        time.sleep(seconds)
        rounds += 1
        if rounds % 5 == 0 and os.environ.get("BENCH_GCWATCH_TYPES"):
            # What the collector scans (frozen objects excluded), by type: a few ms each time.
            seen = Counter(type(o).__qualname__ for g in (0, 1, 2) for o in gc.get_objects(g))
            types[:] = [(n, c) for n, c in seen.most_common(25)]
            types.append(("total", sum(seen.values())))
        _dump()


gc.callbacks.append(_watch)
atexit.register(_dump)
threading.Thread(target=_dump_every, args=(2.0,), daemon=True).start()
sys.exit(main(sys.argv[1:]))
