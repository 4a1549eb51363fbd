"""Phase timers: deadlines that fire back into the session service's one state path.

The Redis side (``RedisDeadlines``, ``TimerWorker``, ``make_broker``, ``live_workers``) is
imported on first use, so the embedded server never loads redis or taskiq-redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._local import LocalDeadlines
from ._supervise import Backoff, supervise

if TYPE_CHECKING:
    from ._redis import RedisDeadlines, TimerWorker, live_workers, make_broker

__all__ = [
    "Backoff",
    "LocalDeadlines",
    "RedisDeadlines",
    "TimerWorker",
    "live_workers",
    "make_broker",
    "supervise",
]

_LAZY = {"RedisDeadlines", "TimerWorker", "live_workers", "make_broker"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import _redis

        return getattr(_redis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
