"""In-process deadlines for the embedded mode.

An asyncio timer per room. A deadline that comes due is fired in its timer's own callback,
through ``SessionService.fire``, which applies it through compare-and-set: the path a Redis
worker's pump takes with its own claims (``_redis.py``). It runs at once up to its first wait,
and only a firing that has to wait goes on as a task (``_eager.start_eagerly``): in embedded
mode most never wait, so a deadline costs one turn of the event loop and no task, where a
task per firing cost two more turns and a ``Task`` (docs/performance.md, section 64). A late
or duplicate firing is harmless: ``fire`` checks the deadline's key and serial.

While ``TASKS`` firings are still waiting, the deadlines that come due in one turn of the loop
are handed, as one batch, to the ``weirsoe.fire_deadlines`` task on taskiq's in-memory broker
instead, as a worker's pump hands its chunks beyond ``TASKS`` to the stream.
``LocalDeadlines(fire_direct=False)`` sends every batch through the broker, which is how every
deadline fired before: that hop (a taskiq message built, serialized, parsed and its result
stored) cost about as much CPU as the firing it carried (docs/performance.md, section 23).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import InMemoryBroker

from .._eager import start_eagerly

__all__ = ["FireFn", "LocalDeadlines"]

log = logging.getLogger("weirsoe.timers")
FireFn = Callable[[str, str, int, float], Awaitable[bool]]
Due = tuple[str, str, int, float]
TASKS = 8  # firings waiting at once in this process before the next ones go through the broker


class LocalDeadlines:
    def __init__(self, *, clock: Callable[[], float] = time.time, fire_direct: bool = True) -> None:
        self.clock = clock
        self.fire_direct = fire_direct
        # In place: the batch's own task awaits the broker; no second task per message.
        self.broker = InMemoryBroker(await_inplace=True, cast_types=False)
        self.fired_here = 0  # deadlines fired without the broker
        self.kicked = 0  # batches sent through the broker
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._due: list[Due] = []
        self._tasks: set[asyncio.Future[Any]] = set()  # firings (and batches) still waiting
        self._task: Any = None
        self._fire: FireFn | None = None

    def bind(self, fire: FireFn) -> None:
        self._fire = fire

        async def fire_deadlines(due: list[Due]) -> int:
            return await self._fire_many([tuple(item) for item in due])  # type: ignore[misc]

        self._task = self.broker.register_task(fire_deadlines, task_name="weirsoe.fire_deadlines")

    async def start(self) -> None:
        await self.broker.startup()

    async def stop(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        self._due.clear()
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

    def sooner(self, at: float) -> None:
        """Nothing to do: the memory store does not schedule, so the service calls
        :meth:`schedule` for every deadline."""

    def pending(self) -> int:
        return len(self._handles)

    def _cancel(self, code: str) -> None:
        handle = self._handles.pop(code, None)
        if handle is not None:
            handle.cancel()

    def _kick(self, code: str, key: str, serial: int, at: float) -> None:
        self._handles.pop(code, None)
        if self.fire_direct and len(self._tasks) < TASKS:
            self.fired_here += 1
            try:
                task = start_eagerly(self._fire_many([(code, key, serial, at)]))
            except Exception:  # _fire_many logs a firing's own error; this would be its bug
                log.exception("deadline %s/%s failed to fire", code, key)
                return
            if task is not None:
                self._track(task)
            return
        if not self._due:  # the first deadline due in this turn of the loop: flush after it
            asyncio.get_running_loop().call_soon(self._flush)
        self._due.append((code, key, serial, at))

    def _flush(self) -> None:
        """The deadlines due in this turn that found ``TASKS`` firings waiting: one batch,
        through the broker."""
        due, self._due = self._due, []
        if not due:
            return
        assert self._task is not None, "bind() was not called"
        self.kicked += 1
        self._track(asyncio.ensure_future(self._run(due)))

    def _track(self, future: asyncio.Future[Any]) -> None:
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def _run(self, due: list[Due]) -> None:
        try:
            await self._task.kiq(due)
        except Exception:
            log.exception("%d deadlines failed to fire", len(due))

    async def _fire_many(self, due: list[Due]) -> int:
        """Fire ``due`` concurrently; one that raises is logged and stops none of the others.
        How many changed state."""
        assert self._fire is not None, "bind() was not called"
        if len(due) == 1:  # every direct firing (``_kick``): no gather
            results: list[Any] = []
            try:
                results.append(await self._fire(*due[0]))
            except Exception as exc:
                results.append(exc)
        else:
            results = await asyncio.gather(
                *(self._fire(*item) for item in due), return_exceptions=True
            )
        changed = 0
        for (code, key, _serial, _at), result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                log.error("deadline %s/%s failed to fire", code, key, exc_info=result)
            elif result:
                changed += 1
        return changed
