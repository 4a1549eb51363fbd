"""Building the state store, channels backend and deadline queue for a configuration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

from ..config import PlatformSettings
from ..sessions import MemorySessionStore, SessionStore
from ..sessions._counter import AudienceCounter, MemoryAudienceCounter
from ..timers import LocalDeadlines

__all__ = ["Backends", "build_backends"]


@dataclass
class Backends:
    store: SessionStore
    channels: ChannelsBackend
    deadlines: Any
    channel_prefix: str = ""
    redis: Any = None
    local_timers: LocalDeadlines | None = None
    counter: AudienceCounter | None = None


def build_backends(
    settings: PlatformSettings, *, clock: Callable[[], float] = time.time
) -> Backends:
    if settings.redis_url is None:
        timers = LocalDeadlines(clock=clock)
        return Backends(
            store=MemorySessionStore(),
            channels=MemoryChannelsBackend(),
            deadlines=timers,
            local_timers=timers,
            counter=MemoryAudienceCounter(),
        )
    from ..sessions._redis_counter import RedisAudienceCounter
    from ..sessions._redis_store import RedisSessionStore, connect_redis
    from ..timers import RedisDeadlines
    from ..transport._redis_channels import SafeRedisPubSubBackend

    redis = connect_redis(settings.redis_url)
    prefix = settings.redis_prefix
    return Backends(
        store=RedisSessionStore(redis, prefix=prefix),
        channels=SafeRedisPubSubBackend(redis=redis, warmup_channel=f"{prefix}:WARMUP".upper()),
        deadlines=RedisDeadlines(redis, prefix=prefix, ttl=settings.game_ttl),
        channel_prefix=f"{prefix}:",
        redis=redis,
        counter=RedisAudienceCounter(redis, prefix=prefix),
    )
