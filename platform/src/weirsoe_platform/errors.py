"""The one error shape, and how the REST routes declare the statuses they can answer.

Every error a client can get, over REST or the WebSocket, is ``{"error": {"code", "message",
"field"?, "details"?}}`` (on the WebSocket the same fields arrive flat, in an ``error`` message).
The table of every code is in :mod:`weirsoe_platform.error_table`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec

__all__ = ["STATUS_MEANINGS", "ErrorBody", "ErrorDetail", "error_responses"]


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    """What went wrong: a stable machine ``code`` and a human ``message``."""

    code: str
    message: str
    field: str | None = None
    details: Any = None


class ErrorBody(msgspec.Struct, frozen=True):
    """The body of every error response."""

    error: ErrorDetail


STATUS_MEANINGS: dict[int, str] = {
    400: "The request is malformed: not JSON, wrong types, unknown fields, values out of bounds.",
    401: "No credentials, or credentials that are not valid (sign in, or send the token).",
    403: "The credentials are valid but do not allow this (wrong room or role, "
    "registration closed).",
    404: "No such room, preset or player.",
    409: "The request conflicts with the room's state (name taken, room full or locked, "
    "game started, busy: retry).",
    422: "Well-formed but not acceptable: settings, cartridge, action or value refused.",
    429: "Too many attempts from this client; see the Retry-After header.",
    503: "The state store or the database is unavailable; retry later.",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for a route: each status with the one error body."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=STATUS_MEANINGS[status], generate_examples=False
        )
        for status in statuses
    }
