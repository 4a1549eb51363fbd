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
- ``subscribe`` returns once SUBSCRIBE is *sent*, not once Redis has it. A snapshot read right
  after could predate the subscription, and an event committed in between would never reach the
  new socket (only the next event's version gap would repair it). ``settle`` closes that window:
  it sends a PING on the same pub/sub connection and waits for its PONG. Redis answers a
  connection's commands in order, so the PONG proves every earlier SUBSCRIBE is in force.

The serialised subscribe/unsubscribe is the workaround for Litestar issue #4894
(https://github.com/litestar-org/litestar/issues/4894: concurrent subscribe and unsubscribe
lose events). It reaches into privates that have no public equivalent: Litestar's
``RedisChannelsPubSubBackend._pub_sub``, ``_has_subscribed`` and
``_stream_sleep_no_subscriptions``, and redis-py's ``PubSub.channels`` and
``pending_unsubscribe_channels``. litestar and redis are bounded in the platform's
pyproject.toml, and platform/tests/test_platform_private_apis.py fails loudly if one moves.
"""

from __future__ import annotations

import asyncio
import itertools
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
        self._tokens = itertools.count(1)
        self._settling: dict[bytes, asyncio.Future[None]] = {}

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

    async def settle(self, timeout: float = 5.0) -> None:
        """Return once Redis has confirmed every SUBSCRIBE this process sent before the call.

        On a lost connection or after ``timeout`` seconds it logs and returns: the caller goes on
        to read its snapshot, and the client's version-gap resync covers what it might miss.
        """
        token = b"weirsoe-settle-%d" % next(self._tokens)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._settling[token] = future
        try:
            async with self._lock:  # ordered after any SUBSCRIBE sent under the lock
                await self._pub_sub.ping(token)
            await asyncio.wait_for(future, timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("Redis pub/sub did not confirm subscriptions (%s)", type(exc).__name__)
        finally:
            self._settling.pop(token, None)

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
            if message["type"] == "pong":  # redis-py returns PONGs even when ignoring the rest
                waiter = self._settling.get(message["data"])
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
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
