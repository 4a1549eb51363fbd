"""``weirsoe serve`` with the pipelined Redis connection's socket writes counted and timed, to
see what a Redis round trip costs the server (docs/performance.md, section 37):

    BENCH_RESP_OUT=/tmp/resp.json uv run python bench/capacity.py --variant respwatch --redis ...

Every 2 s and at exit it writes how many writes went out, how many commands and bytes they
carried, and the thread CPU and wall time spent in them (``_Connection._flush``).
"""

import atexit
import json
import os
import threading
import time
from typing import Any

from weirsoe_platform import _resp
from weirsoe_platform.cli import main

stats = {"writes": 0, "commands": 0, "bytes": 0, "cpu_s": 0.0, "wall_s": 0.0}
_flush = _resp._Connection._flush


def _timed_flush(self: Any) -> None:
    commands, size = len(self.pending), sum(map(len, self.pending))
    cpu, wall = time.thread_time(), time.perf_counter()
    _flush(self)
    stats["cpu_s"] += time.thread_time() - cpu
    stats["wall_s"] += time.perf_counter() - wall
    if commands:
        stats["writes"] += 1
        stats["commands"] += commands
        stats["bytes"] += size


def _dump() -> None:
    with open(os.environ.get("BENCH_RESP_OUT", "/tmp/resp.json"), "w") as f:
        json.dump(stats, f)


def _dump_every(seconds: float) -> None:
    while True:
        time.sleep(seconds)
        _dump()


_resp._Connection._flush = _timed_flush  # type: ignore[method-assign]
threading.Thread(target=_dump_every, args=(2.0,), daemon=True).start()
atexit.register(_dump)
main()
