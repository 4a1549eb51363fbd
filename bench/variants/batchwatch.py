"""``weirsoe serve`` whose batches of waiting inputs start as tasks, as before section 75
(:mod:`taskbatch`), with what that cost them recorded: how many batches a second, how many
inputs each carried, and how long each waited between the transition it waited for ending
and its own first step (a turn of the event loop, which the eager start saves):

    BENCH_BATCH_OUT=/tmp/batch.json uv run python bench/capacity.py --variant batchwatch ...

Every 2 s and at exit it appends a JSON line to ``BENCH_BATCH_OUT``: the totals since the
start, and the percentiles (ms) of the waits since the line before (docs/performance.md,
section 75).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import sys
import threading
import time
from collections.abc import Coroutine
from typing import Any

from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _service

OUT = os.environ.get("BENCH_BATCH_OUT", "batchwatch.json")
_waits: list[float] = []
_inputs: list[int] = []
_lock = threading.Lock()


async def _timed(coro: Coroutine[Any, Any, Any], made: float, inputs: int) -> Any:
    waited = time.perf_counter() - made
    with _lock:
        _waits.append(waited)
        _inputs.append(inputs)
    return await coro


def _as_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    frame = getattr(coro, "cr_frame", None)
    batch = frame.f_locals.get("batch", ()) if frame is not None else ()
    made = time.perf_counter()
    return asyncio.get_running_loop().create_task(_timed(coro, made, len(batch)))


_reported = [0]


def _write() -> None:
    with _lock:
        fresh = len(_waits) - _reported[0]
        waits = sorted(_waits[_reported[0] :])
        _reported[0] = len(_waits)
        inputs = sum(_inputs)
        total = len(_waits)
    count = len(waits)

    def at(share: float) -> float:
        return round(waits[min(count - 1, int(share * count))] * 1000, 3) if count else 0.0

    report = {
        "t": time.monotonic(),
        "batches": total,
        "inputs": inputs,
        "batches_since": fresh,
        "wait_ms": {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)},
        "wait_s_since": round(sum(waits), 3),
    }
    with open(OUT, "a") as out:
        out.write(json.dumps(report) + "\n")


def _every() -> None:
    while True:
        time.sleep(2)
        _write()


_service.start_eagerly = _as_task  # type: ignore[assignment]
threading.Thread(target=_every, daemon=True).start()
atexit.register(_write)
sys.exit(main(sys.argv[1:]))
