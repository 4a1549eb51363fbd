"""Turning database failures into one typed error (503 ``database_unavailable``)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError

from ._errors import DatabaseUnavailable

__all__ = ["database_errors"]

log = logging.getLogger("weirsoe.db")


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """Connection failures and missing tables become :class:`DatabaseUnavailable`.
    Integrity errors pass through: callers turn those into their own answers."""
    try:
        yield
    except IntegrityError:
        raise
    except (DBAPIError, InterfaceError, OSError) as exc:
        log.error("database error: %s: %s", type(exc).__name__, str(exc).splitlines()[0])
        raise DatabaseUnavailable(
            "the accounts database is unavailable (is it reachable, and upgraded with "
            "`weirsoe db upgrade`?)"
        ) from None
