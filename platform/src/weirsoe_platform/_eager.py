"""Running a coroutine at once, in the caller's turn of the event loop, up to its first real
wait, and only then, if it has to wait, as a task.

``asyncio`` starts every task a turn later: ``create_task`` queues its first step behind
everything else ready, and each such hop is a turn of the loop (an ``epoll_wait``) and a
``Task``. For work that mostly never waits (an embedded deadline's firing, a frame written to
an idle socket), running it on the spot saves both (docs/performance.md, section 64). Python
3.12's eager task factory does this for every task; this is the same for the coroutines that
ask for it, on 3.11 as well.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Resume", "start_eagerly"]

T = TypeVar("T")


class Resume(Generic[T]):
    """Awaiting it finishes a coroutine that already ran up to ``waiting_on`` (what it yielded
    to the event loop): the task that awaits this waits on that in its place, and what it
    sends or throws (a cancellation) goes on into the coroutine."""

    __slots__ = ("_coro", "_waiting_on")

    def __init__(self, coro: Coroutine[Any, Any, T], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, T]:
        coro, value = self._coro, self._waiting_on
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation: into the coroutine
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                continue
            try:
                value = coro.send(sent)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]


async def _finish(resume: Resume[T]) -> T:
    return await resume


def start_eagerly(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T] | None:
    """Run ``coro`` now, up to its first wait. None if it finished without one (its result
    is dropped); else the task that finishes it. What it raises before its first wait is
    raised here, to the caller.

    On Python 3.12 and later this is a task started eagerly (``eager_start``), which is the
    current task while it runs, as ``asyncio.timeout`` (and ``wait_for``, built on it there)
    require. On 3.11 the coroutine runs with no current task before its first wait; nothing
    it runs there may need one (``wait_for`` does not on 3.11)."""
    if sys.version_info >= (3, 12):
        task = asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)
        if not task.done():
            return task
        task.result()  # what it raised, to the caller
        return None
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_finish(Resume(coro, waiting_on)))
