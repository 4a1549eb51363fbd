"""Litestar's Redis pub/sub channels backend, made safe for many rooms subscribing at once.

Two behaviours of the stock backend seen under load:

- Concurrent *first* subscribes on one process can leave rooms silent: each concurrent
  ``PubSub.subscribe`` may find no connection yet and open its own, and the last one wins,
  so the channels subscribed on the others never deliver. We serialise subscribe/unsubscribe
  with a lock and open the connection once at start-up.
- Channel names are upper-cased by the Redis backends; our names are upper-case already
  (see ``sessions.channel_names``), so both backends behave the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from litestar.channels.backends.redis import RedisChannelsPubSubBackend

__all__ = ["SafeRedisPubSubBackend"]


class SafeRedisPubSubBackend(RedisChannelsPubSubBackend):
    def __init__(self, *args: object, warmup_channel: str = "WEIRSOE:WARMUP", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = asyncio.Lock()
        self._warmup = warmup_channel

    async def on_startup(self) -> None:
        await super().on_startup()
        # Open the pub/sub connection once, before any concurrent subscriber can race for it.
        async with self._lock:
            await self._pub_sub.subscribe(self._warmup)

    async def subscribe(self, channels: Iterable[str]) -> None:
        async with self._lock:
            await super().subscribe(list(channels))

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        async with self._lock:
            await super().unsubscribe(list(channels))
