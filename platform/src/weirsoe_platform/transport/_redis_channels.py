"""Litestar's Redis pub/sub channels backend, made safe for many rooms subscribing at once.

Two behaviours of the stock backend seen under load:

- Concurrent *first* subscribes on one process can leave rooms silent: each concurrent
  ``PubSub.subscribe`` may find no connection yet and open its own, and the last one wins,
  so the channels subscribed on the others never deliver. We serialise subscribe/unsubscribe
  with a lock and open the connection once at start-up.
- Channel names are upper-cased by the Redis backends; our names are upper-case already
  (see ``sessions.channel_names``), so both backends behave the same.
- Each message was checked against a set built from every subscribed channel; we check
  membership directly (one dict and one set lookup).
- A lost Redis connection raised out of ``stream_events`` and ended the plugin's subscriber
  task, which stopped the whole application. We wait and retry instead; on reconnect redis-py
  subscribes the pub/sub connection to its channels again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.exceptions import RedisError

__all__ = ["SafeRedisPubSubBackend"]

log = logging.getLogger("weirsoe.channels")


class SafeRedisPubSubBackend(RedisChannelsPubSubBackend):
    def __init__(
        self, *args: object, warmup_channel: str = "WEIRSOE:WARMUP", **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = asyncio.Lock()
        self._warmup = warmup_channel

    async def on_startup(self) -> None:
        await super().on_startup()
        # Open the pub/sub connection once, before any concurrent subscriber can race for it.
        async with self._lock:
            await self._pub_sub.subscribe(self._warmup)

    async def subscribe(self, channels: Iterable[str]) -> None:
        names = list(channels)
        async with self._lock:
            try:
                await super().subscribe(names)
            except (RedisError, OSError):
                # Record them, so that redis-py subscribes them when the connection returns;
                # the caller finds the store down and closes the socket cleanly meanwhile.
                for name in names:
                    self._pub_sub.channels[name.encode()] = None
                self._has_subscribed.set()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        names = list(channels)
        async with self._lock:
            try:
                await super().unsubscribe(names)
            except (RedisError, OSError):
                # Forget them locally, so the reconnect does not subscribe them again
                # (redis-py keys them as bytes, as stream_events relies on too).
                for name in names:
                    self._pub_sub.channels.pop(name.encode(), None)

    async def _events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """The stock loop, with an O(1) membership check: the stock backend builds the set
        difference of *all* subscribed and pending channels for every message, which grows
        with the number of rooms on the process."""
        pub_sub = self._pub_sub
        while True:
            await self._has_subscribed.wait()
            message = await pub_sub.get_message(
                ignore_subscribe_messages=True, timeout=self._stream_sleep_no_subscriptions
            )
            if message is None:
                continue
            raw: bytes = message["channel"]
            # Unsubscribing is queued in Redis, so a message can still arrive on a channel
            # this process has just left; drop it, as the stock backend does.
            if raw in pub_sub.channels and raw not in pub_sub.pending_unsubscribe_channels:
                yield raw.decode(), message["data"]

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        delay = 0.1
        while True:
            try:
                async for item in self._events():
                    delay = 0.1
                    yield item
            except (RedisError, OSError) as exc:
                log.warning(
                    "Redis pub/sub lost (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
