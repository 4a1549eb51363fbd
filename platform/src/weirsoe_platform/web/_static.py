"""Static files with the framework: Litestar's static-files router (GET and HEAD, ETag,
content types, containment), plus what it leaves out: ``304 Not Modified`` for a matching
``If-None-Match``, and the shell's security headers on every file."""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.enums import ScopeType
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["conditional_get", "static_router"]


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def conditional_get(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: a GET or HEAD whose ``If-None-Match`` names the response's ETag gets
    ``304`` and no body. Responses without an ETag pass untouched."""

    def middleware(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own where it only passes through: a WebSocket would keep
        # one suspended here (and its three cells) for as long as it is open (section 56).
        if scope["type"] != ScopeType.HTTP or scope.get("method") not in ("GET", "HEAD"):
            return app(scope, receive, send)
        return conditional(scope, receive, send)

    async def conditional(scope: Scope, receive: Receive, send: Send) -> None:
        wanted = b""
        for name, value in scope.get("headers", []):
            if name == b"if-none-match":
                wanted = value
        if not wanted:
            await app(scope, receive, send)
            return
        tags = _etags(wanted.decode("latin-1"))
        replaced = False

        async def send_wrapper(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                etag = next((v for n, v in headers if n.lower() == b"etag"), None)
                if etag is not None and (
                    "*" in tags or etag.decode("latin-1").removeprefix("W/") in tags
                ):
                    replaced = True
                    kept = [(n, v) for n, v in headers if n.lower() != b"content-length"]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            if replaced:
                return  # the body of a response already answered with 304
            await send(message)

        await app(scope, receive, send_wrapper)

    return middleware


def _with_headers(extra: dict[str, str]) -> Any:
    encoded = [(k.lower().encode(), v.encode()) for k, v in extra.items()]

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    have = {n.lower() for n, _ in message.get("headers", [])}
                    headers = list(message.get("headers", []))
                    headers += [(n, v) for n, v in encoded if n not in have]
                    if b"content-type" not in have:  # Litestar's HEAD leaves it out
                        guessed = mimetypes.guess_type(str(scope.get("path", "")))[0]
                        if guessed:
                            text = guessed.startswith("text/")
                            value = f"{guessed}; charset=utf-8" if text else guessed
                            headers.append((b"content-type", value.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, send_wrapper)

        return middleware

    return factory


def static_router(directory: Path, headers: dict[str, str]) -> Router:
    """``/static/…``: the shell's files, revalidated on every use (``no-cache`` plus ETag)."""
    return create_static_files_router(
        path="/static",
        directories=[directory],
        cache_control=CacheControlHeader(no_cache=True),
        middleware=[_with_headers(headers)],
        include_in_schema=False,
        name="static",
    )
