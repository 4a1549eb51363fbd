"""Phase timers: deadlines that fire back into the session service's one state path."""

from ._local import LocalDeadlines
from ._redis import RedisDeadlines, TimerWorker, live_workers, make_broker

__all__ = ["LocalDeadlines", "RedisDeadlines", "TimerWorker", "live_workers", "make_broker"]
