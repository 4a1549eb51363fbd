"""Phase timers: deadlines that fire back into the session service's one state path."""

from ._local import LocalDeadlines

__all__ = ["LocalDeadlines"]
