"""What the timing variants (``timewatch.py``, ``snapwatch.py``) share: their totals, written
every 2 s and at exit to ``BENCH_TIME_OUT`` as JSON lines that ``timewatch.py --diff`` reads."""

from __future__ import annotations

import atexit
import json
import os
import threading
import time

stats: dict[str, dict[str, float]] = {}


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
