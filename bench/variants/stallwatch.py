"""``weirsoe serve`` with its event loop's long busy stretches recorded, and what ran in them:

    BENCH_STALL_OUT=/tmp/stall.json uv run python bench/capacity.py --variant stallwatch ...

A thread samples the main thread's Python stack every ``BENCH_STALL_EVERY_MS`` (default 2;
the GIL makes it 5 or more while the loop is busy). The loop is idle when the innermost
Python frame is ``asyncio.Runner.run`` (uvloop's ``run_until_complete`` and its wait are C);
every other sample is busy. A run of busy samples of ``BENCH_STALL_MS`` (default 20) or more
is a stretch in which the loop could not answer a socket that became ready: the action round
trip's tail. Every 2 s and at exit it writes each stretch (its start by ``time.time()``, its
length, samples and functions) and, for the samples inside stretches and for all busy
samples, how often each function was on the stack (inclusive) and innermost (self).
"""

import atexit
import json
import os
import sys
import threading
import time
from collections import Counter
from types import FrameType

from weirsoe_platform.cli import main

OUT = os.environ.get("BENCH_STALL_OUT", "stallwatch.json")
EVERY = float(os.environ.get("BENCH_STALL_EVERY_MS", "2")) / 1000
STALL = float(os.environ.get("BENCH_STALL_MS", "20")) / 1000
_main = threading.get_ident()
# (started, by time.time(); seconds; samples; each function's samples, inclusive)
_stretches: list[tuple[float, float, int, dict[str, int]]] = []
_in_stalls_self: Counter[str] = Counter()
_busy: Counter[str] = Counter()
_totals = {"samples": 0, "busy_samples": 0}
_lock = threading.Lock()


def _names(frame: FrameType | None) -> list[str]:
    names = []
    while frame is not None:
        code = frame.f_code
        module = frame.f_globals.get("__name__", "?")
        names.append(f"{module}.{code.co_qualname}")
        frame = frame.f_back
    return names  # innermost first


def _watch() -> None:
    run: list[list[str]] = []
    started = 0.0
    last = time.time()
    while True:
        time.sleep(EVERY)
        frame = sys._current_frames().get(_main)
        now = time.time()
        if frame is None:
            return
        idle = frame.f_code.co_qualname == "Runner.run"  # in the loop's C code
        with _lock:
            _totals["samples"] += 1
            if not idle:
                _totals["busy_samples"] += 1
                names = _names(frame)
                for name in set(names):
                    _busy[name] += 1
                if not run:
                    started = last  # the last idle sample: the stretch began after it
                run.append(names)
            elif run:
                seconds = now - started
                if seconds >= STALL:
                    mine: Counter[str] = Counter()
                    for names in run:
                        _in_stalls_self[names[0]] += 1
                        mine.update(set(names))
                    _stretches.append((started, seconds, len(run), dict(mine)))
                run = []
        last = now


def _write() -> None:
    with _lock:
        lengths = sorted(s for _, s, _, _ in _stretches)
        in_stalls: Counter[str] = Counter()
        for *_, functions in _stretches:
            in_stalls.update(functions)
        out = {
            **_totals,
            "stall_samples": sum(n for _, _, n, _ in _stretches),
            "stretches": len(lengths),
            "stretch_ms": {
                "p50": round(lengths[len(lengths) // 2] * 1000, 1) if lengths else 0,
                "p90": round(lengths[int(len(lengths) * 0.9)] * 1000, 1) if lengths else 0,
                "max": round(lengths[-1] * 1000, 1) if lengths else 0,
                "sum": round(sum(lengths) * 1000, 1),
            },
            "each": [(round(t, 3), round(s * 1000, 1), n, c) for t, s, n, c in _stretches],
            "in_stalls": in_stalls.most_common(80),
            "in_stalls_self": _in_stalls_self.most_common(40),
            "busy": _busy.most_common(80),
        }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)


def _writer() -> None:
    while True:
        time.sleep(2)
        _write()


threading.Thread(target=_watch, daemon=True).start()
threading.Thread(target=_writer, daemon=True).start()
atexit.register(_write)
sys.exit(main())
