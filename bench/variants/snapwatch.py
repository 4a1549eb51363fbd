"""``weirsoe serve`` with the pieces of a ``sync``'s snapshot timed in place, in the thread's
CPU time (docs/performance.md, section 70):

    BENCH_TIME_OUT=/tmp/snap.jsonl \\
        uv run python bench/capacity.py --variant snapwatch --start 875 --max-probes 1
    uv run python bench/variants/timewatch.py --diff /tmp/snap.jsonl

The pieces, each as ``{calls, cpu_s, wall_s}`` in the lines ``timewatch.py --diff`` reads:

- ``snapshot``: ``SessionService.snapshot`` as a whole;
- ``read``: its ``SessionService.read`` (every read, not only the snapshots');
- ``numbers``: ``AudienceDesk.snapshot_numbers``, where it did not ask the counter;
- ``runtime.snapshot``: the SDK's ``Runtime.snapshot`` (the players' list and the view);
- ``view``: ``Runtime.view``, the cartridge's view;
- ``part``: ``AudienceDesk.snapshot_part``;
- ``encode``: ``encode_message`` of a snapshot (events are not counted).

The coroutines are timed from their start to their end, so a wait for Redis would count what
the loop ran meanwhile: the figures hold for the memory backend, where nothing in a snapshot
waits. Each wrapper costs about two clock reads a call.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from _timing import start, stats  # bench/variants/_timing.py, beside this script

from weirsoe_platform.audience import _desk
from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _service
from weirsoe_sdk import _runtime

_cpu, _wall = time.thread_time, time.perf_counter


def _add(name: str, cpu: float, wall: float) -> None:
    entry = stats.setdefault(name, {"calls": 0, "cpu_s": 0.0, "wall_s": 0.0})
    entry["calls"] += 1
    entry["cpu_s"] += _cpu() - cpu
    entry["wall_s"] += _wall() - wall


def _plain(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = _cpu(), _wall()
        try:
            return func(*args, **kwargs)
        finally:
            _add(name, cpu, wall)

    return wrapper


def _coroutine(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = _cpu(), _wall()
        result = await func(*args, **kwargs)
        _add(name, cpu, wall)
        return result

    return wrapper


def _numbers(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(desk: Any, *args: Any) -> Any:
        cpu, wall, asked = _cpu(), _wall(), desk.asked
        result = await func(desk, *args)
        if desk.asked == asked:  # the numbers kept here: no request to the counter
            _add("numbers", cpu, wall)
        return result

    return wrapper


def _encode(func: Callable[..., bytes]) -> Callable[..., bytes]:
    @functools.wraps(func)
    def wrapper(event: Any, **kwargs: Any) -> bytes:
        cpu, wall = _cpu(), _wall()
        try:
            return func(event, **kwargs)
        finally:
            if type(event).__name__ == "SessionSnapshot":
                _add("encode", cpu, wall)

    return wrapper


def _install() -> None:
    service, runtime, desk = _service.SessionService, _runtime.Runtime, _desk.AudienceDesk
    service.snapshot = _coroutine("snapshot", service.snapshot)  # type: ignore[method-assign]
    service.read = _coroutine("read", service.read)  # type: ignore[method-assign]
    desk.snapshot_numbers = _numbers(desk.snapshot_numbers)  # type: ignore[method-assign]
    desk.snapshot_part = staticmethod(_plain("part", desk.snapshot_part))  # type: ignore[method-assign]
    runtime.snapshot = _plain("runtime.snapshot", runtime.snapshot)  # type: ignore[method-assign]
    runtime.view = _plain("view", runtime.view)  # type: ignore[method-assign]
    _service.encode_message = _encode(_service.encode_message)  # the name _service calls


_install()
start()
main()
