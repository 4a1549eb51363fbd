"""``weirsoe serve`` with chosen functions timed in place: their calls, and the thread CPU and
wall time they took, where a sampling profiler's attribution to single lines is unsure
(docs/performance.md, section 69):

    BENCH_TIME_FUNCS=weirsoe_platform._resp:command,weirsoe_sdk._runtime:Runtime.encode \\
    BENCH_TIME_OUT=/tmp/times.jsonl \\
        uv run python bench/capacity.py --variant timewatch --redis ...

``BENCH_TIME_FUNCS``: comma-separated ``module:name`` or ``module:Class.method``, plain
functions only (a coroutine function's wrapper would time only the making of its coroutine,
so one is refused). A module function is replaced in its module, so calls through the
module's globals see the wrapper (a name imported elsewhere with ``from module import name``
does not). Every 2 s the totals so far are appended to ``BENCH_TIME_OUT`` as a JSON line
``{"t": monotonic s, name: {calls, cpu_s, wall_s}}``. The wrapper itself costs about two
clock reads a call (``time.thread_time`` took 0.58 µs a read on a firecracker VM).

    uv run python bench/variants/timewatch.py --diff /tmp/times.jsonl [SECONDS]

prints the calls a second and the CPU and wall µs per call over the last SECONDS (default
10) before the second-to-last line: the end of a capacity probe's window, before teardown.
"""

import importlib
import inspect
import json
import os
import sys
from typing import Any

from _timing import start, timed  # bench/variants/_timing.py, beside this script

from weirsoe_platform.cli import main


def _install(spec: str) -> None:
    module_name, _, path = spec.partition(":")
    module = importlib.import_module(module_name)
    owner: Any = module
    *parents, attr = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    func = getattr(owner, attr)
    if inspect.iscoroutinefunction(func):
        raise SystemExit(f"timewatch: {spec} is a coroutine function; time a plain function")
    setattr(owner, attr, timed(spec, func))


def _diff(path: str, seconds: float) -> None:
    with open(path) as f:
        lines = [json.loads(line) for line in f]
    end = lines[-2] if len(lines) > 1 else lines[-1]
    start = min(lines, key=lambda line: abs(line["t"] - (end["t"] - seconds)))
    span = end["t"] - start["t"]
    if span <= 0:
        raise SystemExit("timewatch: too few lines to take a difference")
    zero = {"calls": 0, "cpu_s": 0.0, "wall_s": 0.0}
    for name, total in end.items():
        if name == "t":
            continue
        was = start.get(name, zero)
        calls = total["calls"] - was["calls"]
        if calls:
            cpu, wall = total["cpu_s"] - was["cpu_s"], total["wall_s"] - was["wall_s"]
            print(
                f"{name}: {calls / span:.0f} calls/s, CPU {cpu / calls * 1e6:.2f} µs/call, "
                f"wall {wall / calls * 1e6:.2f} µs/call, {100 * cpu / span:.2f} % of a core"
            )
    print(f"over {span:.1f} s")


if sys.argv[1:2] == ["--diff"]:
    _diff(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 10.0)
else:
    for _spec in filter(None, os.environ.get("BENCH_TIME_FUNCS", "").split(",")):
        _install(_spec.strip())
    start()
    main()
