"""Rate limits: per client address for joins and room-code lookups, per connection for frames."""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import Any

from ..sessions import RateLimited, StoreUnavailable

__all__ = [
    "Guard",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "TokenBucket",
    "retry_header",
]


class RateLimiter(ABC):
    """Counts events per key in a time window."""

    @abstractmethod
    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count one event. None if within ``limit``; else seconds until it would be allowed."""

    @abstractmethod
    async def blocked(self, key: str, limit: int, window: float) -> float | None:
        """Like :meth:`hit` without counting: is ``key`` over its limit right now?"""


class MemoryRateLimiter(RateLimiter):
    """Sliding windows in one process; keys idle for a window are forgotten."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _window(self, key: str, window: float) -> deque[float]:
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._prune(window)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        return hits

    def _prune(self, window: float) -> None:
        now = self.clock()
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
            del self._hits[key]

    def _retry(self, hits: deque[float], limit: int, window: float) -> float | None:
        if len(hits) < limit:
            return None
        return max(0.0, hits[len(hits) - limit] + window - self.clock())

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        hits = self._window(key, window)
        retry = self._retry(hits, limit, window)
        if retry is None:
            hits.append(self.clock())
        return retry

    async def blocked(self, key: str, limit: int, window: float) -> float | None:
        return self._retry(self._window(key, window), limit, window)


class RedisRateLimiter(RateLimiter):
    """Fixed windows shared by every process (``INCR`` + ``PEXPIRE``); keys expire by themselves.

    **Fails closed:** while Redis cannot be reached, every check raises ``StoreUnavailable``
    (HTTP 503 ``store_unavailable`` with ``Retry-After``, WebSocket close 1013). Nothing it
    guards could work without Redis anyway, and an outage never opens the door to guessing.
    """

    def __init__(self, redis: Any, *, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        name = f"{self.prefix}:limit:{key}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.pexpire(name, int(window * 1000), nx=True)
                pipe.pttl(name)
                count, _, ttl = await pipe.execute()
        except Exception as exc:  # redis' errors; this module does not import redis
            raise _unavailable(exc) from exc
        if int(count) <= limit:
            return None
        return max(0.0, int(ttl) / 1000)

    async def blocked(self, key: str, limit: int, window: float) -> float | None:
        name = f"{self.prefix}:limit:{key}"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(name)
                pipe.pttl(name)
                count, ttl = await pipe.execute()
        except Exception as exc:
            raise _unavailable(exc) from exc
        if count is None or int(count) < limit:
            return None
        return max(0.0, int(ttl) / 1000)


def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"rate limiter unavailable: {type(exc).__name__}")


class Guard:
    """The limits on what strangers can do: guess room codes and flood joins.

    - after ``unknown_limit`` lookups of codes that do not exist within ``window`` seconds, an
      address gets 429 (``Retry-After``) on every code lookup until the window passes;
    - an address may join at most ``join_limit`` times per ``window``.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        unknown_limit: int = 10,
        join_limit: int = 30,
        window: float = 60.0,
    ) -> None:
        self.limiter = limiter
        self.unknown_limit = unknown_limit
        self.join_limit = join_limit
        self.window = window
        self.metrics: Any = None  # weirsoe_platform.metrics.Metrics, set by the app

    async def check_lookup(self, address: str) -> None:
        retry = await self.limiter.blocked(f"unknown:{address}", self.unknown_limit, self.window)
        if retry is not None:
            self._count("unknown_code")
            raise RateLimited("too many unknown room codes; wait a moment", retry_after=retry)

    async def unknown_code(self, address: str) -> None:
        await self.limiter.hit(f"unknown:{address}", self.unknown_limit, self.window)

    async def check_join(self, address: str) -> None:
        retry = await self.limiter.hit(f"join:{address}", self.join_limit, self.window)
        if retry is not None:
            self._count("join")
            raise RateLimited("too many joins from this address; wait a moment", retry_after=retry)

    def _count(self, rule: str) -> None:
        if self.metrics is not None:
            self.metrics.rate_limited.labels(rule).inc()


class TokenBucket:
    """Per-connection frame limit: ``rate`` per second with bursts up to ``burst``."""

    def __init__(
        self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def retry_header(seconds: float) -> str:
    """The ``Retry-After`` value for a wait of ``seconds``: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
