"""Platform errors. The transport maps each to one HTTP status / WebSocket message."""

from __future__ import annotations

from weirsoe_sdk import WeirsoeError

__all__ = [
    "Conflict",
    "Forbidden",
    "PlatformError",
    "RateLimited",
    "SessionNotFound",
    "StoreUnavailable",
    "Unauthorized",
]


class PlatformError(WeirsoeError):
    default_code = "platform_error"


class SessionNotFound(PlatformError, LookupError):
    default_code = "room_not_found"


class Unauthorized(PlatformError, PermissionError):
    default_code = "unauthorized"


class Forbidden(PlatformError, PermissionError):
    default_code = "forbidden"


class Conflict(PlatformError, RuntimeError):
    """Too many concurrent writers on one session; the client may retry."""

    default_code = "conflict"


class StoreUnavailable(PlatformError, ConnectionError):
    """The state store (Redis) cannot be reached."""

    default_code = "store_unavailable"


class RateLimited(PlatformError):
    """Too many attempts from one client; ``retry_after`` seconds until the next is allowed."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
