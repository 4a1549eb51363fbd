"""Building the state store, channels backend and deadline queue for a configuration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import PlatformSettings
from ..sessions import MemorySessionStore, SessionStore
from ..timers import LocalDeadlines
from ..transport import Hub

__all__ = ["Backends", "build_backends"]


@dataclass
class Backends:
    store: SessionStore
    hub: Hub
    deadlines: Any
    channel_prefix: str = ""
    redis: Any = None
    local_timers: LocalDeadlines | None = None


def build_backends(
    settings: PlatformSettings, *, clock: Callable[[], float] = time.time
) -> Backends:
    if settings.redis_url is None:
        timers = LocalDeadlines(clock=clock)
        return Backends(
            store=MemorySessionStore(),
            hub=Hub(),
            deadlines=timers,
            local_timers=timers,
        )
    from ..sessions._redis_store import RedisSessionStore, connect_redis
    from ..timers import RedisDeadlines
    from ..transport._redis_pubsub import RedisPubSub

    redis = connect_redis(settings.redis_url)
    prefix = settings.redis_prefix
    # One pub/sub connection per process, feeding the local fan-out (transport._hub).
    hub = Hub(channel_prefix=f"{prefix}:", wire_prefix=f"{prefix}:")
    hub.remote = RedisPubSub(
        settings.redis_url, lambda _channel, frame: hub.deliver_frame(frame), publisher=redis
    )
    return Backends(
        store=RedisSessionStore(redis, prefix=prefix),
        hub=hub,
        deadlines=RedisDeadlines(redis, prefix=prefix, ttl=settings.game_ttl),
        channel_prefix=f"{prefix}:",
        redis=redis,
    )
