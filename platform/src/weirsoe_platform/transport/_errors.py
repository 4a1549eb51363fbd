"""One place that maps errors to HTTP statuses: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from weirsoe_sdk import (
    CartridgeError,
    ContentError,
    InvalidAction,
    InvalidSettings,
    Refused,
    WeirsoeError,
)

from ..accounts import ACCOUNT_STATUS
from ..security._limits import retry_header
from ..sessions import (
    Conflict,
    Forbidden,
    RateLimited,
    SessionNotFound,
    StoreUnavailable,
    Unauthorized,
)

__all__ = ["EXCEPTION_HANDLERS", "HTTP_CODES", "error_body", "status_for"]

log = logging.getLogger("weirsoe.http")

_STATUS: list[tuple[type[Exception], int]] = [
    *ACCOUNT_STATUS,
    (SessionNotFound, 404),
    (Unauthorized, 401),
    (Forbidden, 403),
    (Conflict, 409),
    (RateLimited, 429),
    (StoreUnavailable, 503),
    (Refused, 409),
    (InvalidAction, 422),
    (InvalidSettings, 422),
    (ContentError, 422),
    (CartridgeError, 422),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def status_for(exc: Exception) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _weirsoe(request: Request[Any, Any, Any], exc: WeirsoeError) -> Response[Any]:
    headers = {"Retry-After": "1"} if isinstance(exc, StoreUnavailable | Conflict) else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": retry_header(exc.retry_after)}
    return Response({"error": exc.to_dict()}, status_code=status_for(exc), headers=headers)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    # Every code is in the error table (docs/errors.md): statuses without a code of their own
    # fall back to the generic one of their class.
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["details"] = exc.extra
        field = _field_of(exc.extra)
        if field:
            extra["field"] = field
    message = exc.detail or code.replace("_", " ")
    return Response(error_body(code, message, **extra), status_code=status, headers=exc.headers)


_AT = re.compile(r"at `\$\.([A-Za-z0-9_.\[\]]+)`")
_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _field_of(extra: Any) -> str | None:
    """The offending field of a body: from msgspec's message (``… - at `$.name` ``, or
    ``unknown field `x` ``), else the parameter's key."""
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        message = str(extra[0].get("message", ""))
        found = _AT.search(message)
        named = _FIELD.search(message)
        if found and named:
            return f"{found.group(1)}.{named.group(1)}"
        if found or named:
            return (found or named).group(1)  # type: ignore[union-attr]
        key = extra[0].get("key")
        return str(key) if key else None
    return None


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(error_body("internal_error", "something went wrong"), status_code=500)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    WeirsoeError: _weirsoe,
    HTTPException: _http,
    Exception: _internal,
}
