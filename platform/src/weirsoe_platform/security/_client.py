"""Who is asking: the client address (for rate limits) and the bearer token of a request."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

__all__ = ["bearer_token", "client_address"]


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer's IP address (HTTP request or WebSocket), ``"unknown"`` if the server has none."""
    return connection.client.host if connection.client else "unknown"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; ``None`` if there is none or
    the header uses another scheme."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
