"""What the timing variants (``timewatch.py``, ``snapwatch.py``) share: the wrapper that times a
plain function in the thread's CPU time and in wall time, and the totals, written every 2 s and
at exit to ``BENCH_TIME_OUT`` as JSON lines that ``timewatch.py --diff`` reads."""

from __future__ import annotations

import atexit
import functools
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

stats: dict[str, dict[str, float]] = {}
cpu_clock, wall_clock = time.thread_time, time.perf_counter


def add(name: str, cpu: float, wall: float) -> None:
    """One call of ``name`` that began at thread CPU time ``cpu`` and wall time ``wall``."""
    entry = stats.setdefault(name, {"calls": 0, "cpu_s": 0.0, "wall_s": 0.0})
    entry["calls"] += 1
    entry["cpu_s"] += cpu_clock() - cpu
    entry["wall_s"] += wall_clock() - wall


def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a plain function), each call counted under ``name``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = cpu_clock(), wall_clock()
        try:
            return func(*args, **kwargs)
        finally:
            add(name, cpu, wall)

    return wrapper


def _dump() -> None:
    with open(os.environ.get("BENCH_TIME_OUT", "/tmp/times.jsonl"), "a") as f:
        f.write(json.dumps({"t": time.monotonic(), **stats}) + "\n")


def _dump_every(seconds: float) -> None:
    while True:
        time.sleep(seconds)
        _dump()


def start() -> None:
    """Write the totals every 2 s from a thread of their own, and once more at exit."""
    threading.Thread(target=_dump_every, args=(2.0,), daemon=True).start()
    atexit.register(_dump)
