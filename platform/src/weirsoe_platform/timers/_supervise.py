"""Supervised background loops: a loop that fails is logged with its traceback and restarted.

Every long-lived task of a process (the timer pump, the task receiver, heartbeats, sweepers)
runs under :func:`supervise`. A loop body should not return; if it does, or raises, it is run
again after a backoff that doubles up to ``cap`` and resets once the loop has run for a while.
Cancellation is the only way to stop it.

This module imports nothing but the standard library, so the embedded server and the worker
both use it without pulling in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

__all__ = ["Backoff", "supervise"]

log = logging.getLogger("weirsoe.supervisor")


class Backoff:
    """Delays that double from ``initial`` up to ``cap``; :meth:`reset` after a success."""

    def __init__(self, initial: float = 0.1, cap: float = 5.0) -> None:
        self.initial = initial
        self.cap = cap
        self.current = initial
        self.failures = 0

    def next(self) -> float:
        delay = self.current
        self.failures += 1
        self.current = min(self.current * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.current = self.initial
        self.failures = 0


async def supervise(
    name: str,
    body: Callable[[], Awaitable[object]],
    *,
    initial: float = 0.1,
    cap: float = 5.0,
    healthy_after: float = 30.0,
    on_restart: Callable[[str], None] | None = None,
) -> None:
    """Run ``body()`` forever: log any exception with its traceback and run it again."""
    backoff = Backoff(initial, cap)
    while True:
        started = time.monotonic()
        try:
            await body()
        except asyncio.CancelledError:
            raise
        except Exception:
            if time.monotonic() - started >= healthy_after:
                backoff.reset()
            delay = backoff.next()
            log.exception("%s failed; restarting in %.1f s", name, delay)
        else:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # The body swallowed our cancellation (taskiq's receiver returns quietly
                # when cancelled): stop, as asked.
                raise asyncio.CancelledError
            if time.monotonic() - started >= healthy_after:
                backoff.reset()
            delay = backoff.next()
            log.error("%s stopped by itself; restarting in %.1f s", name, delay)
        if on_restart is not None:
            on_restart(name)
        await asyncio.sleep(delay)
