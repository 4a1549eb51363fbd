"""``weirsoe serve`` timing each command the pipelined Redis connection packs (``_resp.command``,
hiredis's encoder where installed), in place (docs/performance.md, section 76):

    BENCH_PACK_OUT=/tmp/pack.jsonl \
        uv run python bench/capacity.py --redis --variant packwatch ...

Every 2 s it appends a JSON line to ``BENCH_PACK_OUT``: how many commands were packed, and
the mean and percentiles (µs, wall clock) of the time each took.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from _samples import Samples, percentile, report_every

from weirsoe_platform import _resp
from weirsoe_platform.cli import main

OUT = os.environ.get("BENCH_PACK_OUT", "packwatch.jsonl")
_took = Samples()
_command = _resp.command
_clock = time.perf_counter_ns


def command(*parts: Any) -> bytes:
    start = _clock()
    packed = _command(*parts)
    _took.add(_clock() - start)
    return packed


def _us(took: list[float], share: float) -> float:
    return round(percentile(took, share) / 1e3, 2)


def _report() -> None:
    took = _took.drain()
    if not took:
        return
    line = {"t": round(time.time(), 3), "commands": len(took)}
    line.update({"mean_us": round(sum(took) / len(took) / 1e3, 2), "p50_us": _us(took, 0.5)})
    line.update({"p90_us": _us(took, 0.9), "p99_us": _us(took, 0.99)})
    with open(OUT, "a") as out:
        out.write(json.dumps(line) + "\n")


_resp.command = command
report_every(2, _report)
sys.exit(main(sys.argv[1:]))
