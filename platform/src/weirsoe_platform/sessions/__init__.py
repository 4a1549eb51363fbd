"""Sessions: rooms, their store, and the one state-change path."""

from ._codes import ALPHABET, CODE_LENGTH, hash_token, new_code, new_token, normalize_code
from ._errors import (
    Conflict,
    Forbidden,
    PlatformError,
    RateLimited,
    SessionNotFound,
    StoreUnavailable,
    Unauthorized,
)
from ._records import SessionRecord
from ._service import (
    PLATFORM_ONLY_EVENTS,
    DeadlineSink,
    Publisher,
    SessionKicked,
    SessionLocked,
    SessionService,
    SessionVersion,
    channel_names,
)
from ._store import MemorySessionStore, SessionStore

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "PLATFORM_ONLY_EVENTS",
    "Conflict",
    "DeadlineSink",
    "Forbidden",
    "MemorySessionStore",
    "PlatformError",
    "Publisher",
    "RateLimited",
    "SessionKicked",
    "SessionLocked",
    "SessionNotFound",
    "SessionRecord",
    "SessionService",
    "SessionStore",
    "SessionVersion",
    "StoreUnavailable",
    "Unauthorized",
    "channel_names",
    "hash_token",
    "new_code",
    "new_token",
    "normalize_code",
]
