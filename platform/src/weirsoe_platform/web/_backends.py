"""Backend wiring: the state store, channels backend, deadline queue and rate limiter of a
configuration, with the background work each one needs.

``build_backends`` picks one of two wirings, each readable on its own:

- :class:`EmbeddedBackends` (no ``--redis``): memory state, memory channels, in-process timers
  on taskiq's in-memory broker, and a sweep that drops finished rooms;
- ``RedisBackends`` (``weirsoe_platform.web._redis_backends``, imported only when Redis is asked
  for, and only with the ``[redis]`` extra installed): state, fan-out and deadlines in Redis,
  timers fired by ``weirsoe worker`` processes (or this one, with ``--with-worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from .._extras import require_extra
from ..config import PlatformSettings
from ..security import MemoryRateLimiter, RateLimiter
from ..sessions import MemorySessionStore, SessionStore
from ..sessions._counter import AudienceCounter, MemoryAudienceCounter
from ..timers import LocalDeadlines, supervise
from ..timers._local import FireFn
from ..transport import Hub

__all__ = ["Backends", "EmbeddedBackends", "build_backends"]


class Backends(ABC):
    """What the app factory and the worker need from a backend wiring."""

    store: SessionStore
    hub: Hub  # this process's fan-out (transport._hub)
    deadlines: Any
    limiter: RateLimiter
    channel_prefix: str = ""
    worker: Any = None
    counter: AudienceCounter | None = None

    @abstractmethod
    def wire(self, fire: FireFn) -> None:
        """Connect the deadline machinery to ``SessionService.fire``."""

    @abstractmethod
    async def start(self) -> None:
        """Start background work (app startup)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop background work and close connections (app shutdown)."""

    @property
    def timers(self) -> Any:
        """What schedules deadlines in this process (exposed on ``app.state.timers``)."""
        return self.deadlines


class EmbeddedBackends(Backends):
    """One process, no services: memory state and channels, in-process timers."""

    def __init__(self, settings: PlatformSettings, *, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.memory = MemorySessionStore()
        self.store = self.memory
        self.hub = Hub()
        self.deadlines = LocalDeadlines(clock=clock)
        self.limiter = MemoryRateLimiter()
        self.counter = MemoryAudienceCounter()
        self._sweeper: asyncio.Task[None] | None = None

    def wire(self, fire: FireFn) -> None:
        self.deadlines.bind(fire)

    async def start(self) -> None:
        await self.deadlines.start()
        self._sweeper = asyncio.create_task(
            supervise("session sweeper", self._sweep_forever), name="weirsoe-sweep"
        )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.deadlines.stop()
        await self.hub.stop()
        await self.store.close()

    async def _sweep_forever(self) -> None:
        """Drop finished rooms once their grace period is over (Redis does it with TTLs)."""
        interval = min(5.0, self.settings.grace_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            self.memory.sweep()


def build_backends(
    settings: PlatformSettings, *, clock: Callable[[], float] = time.time
) -> Backends:
    """The wiring for ``settings``: embedded, or Redis when ``redis_url`` is set.

    :raises MissingExtra: Redis was asked for without the ``[redis]`` extra installed.
    """
    if settings.redis_url is None:
        return EmbeddedBackends(settings, clock=clock)
    require_extra("redis")
    from ._redis_backends import RedisBackends

    return RedisBackends(settings, clock=clock)
