"""The distributed wiring: state, fan-out, deadlines and rate limits in Redis.

Imported only when Redis is asked for (``--redis`` or ``WEIRSOE_REDIS_URL``), after
``require_extra("redis")`` has checked that the ``[redis]`` extra is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from .._redis_pubsub import RedisPubSub
from ..config import PlatformSettings
from ..security import RedisRateLimiter
from ..sessions._redis_counter import RedisAudienceCounter
from ..sessions._redis_store import RedisSessionStore, connect_redis
from ..timers import RedisDeadlines, TimerWorker, live_workers, make_broker, supervise
from ..timers._local import FireFn
from ..transport import Hub
from ._backends import Backends

__all__ = ["RedisBackends"]

log = logging.getLogger("weirsoe")
_WORKER_CHECK_DELAY = 3.0


class RedisBackends(Backends):
    """Many processes, one Redis: no sticky sessions, timers fired by any worker."""

    def __init__(self, settings: PlatformSettings, *, clock: Callable[[], float]) -> None:
        assert settings.redis_url is not None
        self.settings = settings
        self.clock = clock
        prefix = settings.redis_prefix
        self.redis = connect_redis(settings.redis_url)
        self.store = RedisSessionStore(self.redis, prefix=prefix)
        # One pub/sub connection per process, feeding the local fan-out (transport._hub).
        self.hub = hub = Hub(channel_prefix=f"{prefix}:", wire_prefix=f"{prefix}:")
        hub.remote = RedisPubSub(
            settings.redis_url,
            hub.on_wire_message,
            publisher=self.store.fast or self.redis,  # the pipelined one, if any
            on_reset=hub.reset,
            marker_prefix=prefix,  # quiet commits (transport._hub)
        )
        self.deadlines = RedisDeadlines(
            self.redis, prefix=prefix, ttl=settings.game_ttl, fast=self.store.fast
        )
        self.limiter = RedisRateLimiter(self.redis, prefix=prefix)
        self.counter = RedisAudienceCounter(self.redis, prefix=prefix, fast=self.store.fast)
        self.channel_prefix = f"{prefix}:"
        self.worker: TimerWorker | None = None
        self._checker: asyncio.Task[None] | None = None

    def wire(self, fire: FireFn) -> None:
        """With ``--with-worker`` this process also fires timers; otherwise workers do."""
        if not self.settings.with_worker:
            return
        assert self.settings.redis_url is not None
        self.worker = TimerWorker(
            deadlines=self.deadlines,
            broker=make_broker(self.settings.redis_url, prefix=self.settings.redis_prefix),
            fire=fire,
            clock=self.clock,
            wake_url=self.settings.redis_url,
        )
        # This process serves the sockets of the rooms it sets deadlines for, and holds their
        # tables: its own pump fires them first (timers._redis.AFFINITY).
        assert isinstance(self.store, RedisSessionStore)
        self.store.owner = self.deadlines.owner = self.worker.id

    async def start(self) -> None:
        await self.hub.start()
        if self.worker is not None:
            await self.worker.start()
        else:
            self._checker = asyncio.create_task(
                supervise("worker watch", self._warn_without_workers)
            )

    async def stop(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
            self._checker = None
        if self.worker is not None:
            await self.worker.stop()
        await self.hub.stop()
        with contextlib.suppress(RedisError, OSError):
            await self.store.close()

    async def _warn_without_workers(self) -> None:
        """Warn when no worker beats, and again each time that starts over (a worker whose
        timer pump fails stops beating, so this also catches a stuck worker)."""
        await asyncio.sleep(_WORKER_CHECK_DELAY)
        warned = False
        while True:
            try:
                alone = await live_workers(self.redis, self.settings.redis_prefix) == 0
            except (RedisError, OSError) as exc:
                log.debug("could not count timer workers: %s", type(exc).__name__)
                alone = False  # an outage is reported by the store's own errors
            if alone and not warned:
                log.warning(
                    "no timer worker is running: phases will not end on their deadlines. "
                    "Start `weirsoe worker` with the same --redis URL, or serve with "
                    "--with-worker."
                )
            warned = alone
            await asyncio.sleep(10)
