"""In-process deadlines for the embedded mode.

An asyncio timer per room kicks a taskiq task on taskiq's in-memory broker; the task calls
``SessionService.fire``. The same task runs on Redis-backed workers in distributed mode, so
the firing path is identical. A late or duplicate firing is harmless: ``fire`` checks the
deadline's key and serial under compare-and-set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import InMemoryBroker

__all__ = ["FireFn", "LocalDeadlines"]

log = logging.getLogger("weirsoe.timers")
FireFn = Callable[[str, str, int, float], Awaitable[bool]]


class LocalDeadlines:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.broker = InMemoryBroker()
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._task: Any = None

    def bind(self, fire: FireFn) -> None:
        async def fire_deadline(code: str, key: str, serial: int, at: float) -> bool:
            return await fire(code, key, serial, at)

        self._task = self.broker.register_task(fire_deadline, task_name="weirsoe.fire_deadline")

    async def start(self) -> None:
        await self.broker.startup()

    async def stop(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        for task in list(self._tasks):
            task.cancel()
        await self.broker.shutdown()

    async def schedule(self, code: str, key: str, serial: int, at: float) -> None:
        self._cancel(code)
        loop = asyncio.get_running_loop()
        delay = max(0.0, at - self.clock())
        self._handles[code] = loop.call_later(delay, self._kick, code, key, serial, at)

    async def cancel(self, code: str) -> None:
        self._cancel(code)

    def pending(self) -> int:
        return len(self._handles)

    def _cancel(self, code: str) -> None:
        handle = self._handles.pop(code, None)
        if handle is not None:
            handle.cancel()

    def _kick(self, code: str, key: str, serial: int, at: float) -> None:
        self._handles.pop(code, None)
        assert self._task is not None, "bind() was not called"
        future = asyncio.ensure_future(self._run(code, key, serial, at))
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def _run(self, code: str, key: str, serial: int, at: float) -> None:
        try:
            await self._task.kiq(code, key, serial, at)
        except Exception:
            log.exception("deadline %s/%s failed to fire", code, key)
