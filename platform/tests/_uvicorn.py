"""uvicorn on 127.0.0.1 for tests that need the real ASGI server and its protocols."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn


@contextlib.asynccontextmanager
async def running(
    config: uvicorn.Config,
) -> AsyncIterator[tuple[uvicorn.Server, int, Callable[[], Awaitable[None]]]]:
    """``(server, port, stop)`` once ``config`` (port 0) serves; ``await stop()`` shuts it
    down as uvicorn does on a signal, and so does leaving the context."""
    server = uvicorn.Server(config)
    task: asyncio.Task[Any] = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]

    async def stop() -> None:
        if not task.done():
            server.should_exit = True
            await asyncio.wait_for(task, 10)

    try:
        yield server, port, stop
    finally:
        await stop()


@contextlib.asynccontextmanager
async def serve_app(
    app: Any, *, deflate: bool = False, max_size: int = 16 * 1024 * 1024
) -> AsyncIterator[tuple[str, Callable[[], Awaitable[None]]]]:
    """``app`` on uvicorn at 127.0.0.1 with ``weirsoe serve``'s WebSocket protocol (the direct
    write and receive): ``(ws base URL, stop)``."""
    from weirsoe_platform.web._ws_protocol import direct_websocket_protocol

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        ws=direct_websocket_protocol(),
        ws_per_message_deflate=deflate,
        ws_max_size=max_size,
        lifespan="off",
        log_level="warning",
    )
    async with running(config) as (_, port, stop):
        yield f"ws://127.0.0.1:{port}", stop
