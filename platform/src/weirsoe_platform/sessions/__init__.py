"""Sessions: rooms, their store, and the one state-change path."""

from ._codes import ALPHABET, CODE_LENGTH, hash_token, new_code, new_token, normalize_code
from ._errors import Conflict, Forbidden, PlatformError, SessionNotFound, StoreUnavailable, Unauthorized
from ._records import SessionRecord
from ._service import DeadlineSink, Publisher, SessionService, SessionVersion, channel_names
from ._store import MemorySessionStore, SessionStore

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "Conflict",
    "DeadlineSink",
    "Forbidden",
    "MemorySessionStore",
    "PlatformError",
    "Publisher",
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
