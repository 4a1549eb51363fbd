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
from collections.abc import Callable
from typing import Any

from _timing import (  # bench/variants/_timing.py, beside this script
    add,
    cpu_clock,
    start,
    timed,
    wall_clock,
)

from weirsoe_platform.audience import _desk
from weirsoe_platform.cli import main
from weirsoe_platform.sessions import _service
from weirsoe_sdk import _runtime


def _coroutine(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = cpu_clock(), wall_clock()
        result = await func(*args, **kwargs)
        add(name, cpu, wall)
        return result

    return wrapper


def _numbers(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(desk: Any, *args: Any) -> Any:
        cpu, wall, asked = cpu_clock(), wall_clock(), desk.asked
        result = await func(desk, *args)
        if desk.asked == asked:  # the numbers kept here: no request to the counter
            add("numbers", cpu, wall)
        return result

    return wrapper


def _encode(func: Callable[..., bytes]) -> Callable[..., bytes]:
    @functools.wraps(func)
    def wrapper(event: Any, **kwargs: Any) -> bytes:
        cpu, wall = cpu_clock(), wall_clock()
        try:
            return func(event, **kwargs)
        finally:
            if type(event).__name__ == "SessionSnapshot":
                add("encode", cpu, wall)

    return wrapper


def _install() -> None:
    service, runtime, desk = _service.SessionService, _runtime.Runtime, _desk.AudienceDesk
    service.snapshot = _coroutine("snapshot", service.snapshot)  # type: ignore[method-assign]
    service.read = _coroutine("read", service.read)  # type: ignore[method-assign]
    desk.snapshot_numbers = _numbers(desk.snapshot_numbers)  # type: ignore[method-assign]
    desk.snapshot_part = staticmethod(timed("part", desk.snapshot_part))  # type: ignore[method-assign]
    runtime.snapshot = timed("runtime.snapshot", runtime.snapshot)  # type: ignore[method-assign]
    runtime.view = timed("view", runtime.view)  # type: ignore[method-assign]
    _service.encode_message = _encode(_service.encode_message)  # the name _service calls


_install()
start()
main()
