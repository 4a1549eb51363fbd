"""Abuse resistance: rate limits, origin checks and per-connection limits."""

from ._client import bearer_token, client_address
from ._limits import (
    Guard,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    TokenBucket,
    retry_header,
)
from ._origin import origin_allowed

__all__ = [
    "Guard",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "TokenBucket",
    "bearer_token",
    "client_address",
    "origin_allowed",
    "retry_header",
]
