"""The app factory. No globals: everything is built here and injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig

from weirsoe_sdk import Discovery, discover_cartridges, get_plugin_manager

from .. import __version__
from ..config import PlatformSettings, settings_from_env
from ..reference import build_asyncapi
from ..sessions import MemorySessionStore, SessionService
from ..timers import LocalDeadlines
from ..transport import EXCEPTION_HANDLERS, ROUTES, ChannelsPublisher, Presence, game_socket

__all__ = ["create_app"]

log = logging.getLogger("weirsoe")


@get("/schema/asyncapi.json", tags=["reference"], include_in_schema=False)
async def asyncapi(service: NamedDependency[SessionService]) -> dict[str, Any]:
    """The AsyncAPI 3.0 reference of every WebSocket message."""
    return build_asyncapi(service.cartridges)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    discovery: Discovery | None = None,
    clock: Callable[[], float] = time.time,
) -> Litestar:
    settings = settings or settings_from_env()
    plugins = get_plugin_manager()
    discovery = discovery or discover_cartridges(plugins, config={"content_dir": settings.content_dir})
    for error in discovery.errors:
        log.error("cartridge not loaded: %s", error)

    store = MemorySessionStore()
    channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    timers = LocalDeadlines(clock=clock)
    service = SessionService(
        cartridges=discovery,
        store=store,
        publisher=ChannelsPublisher(channels),
        deadlines=timers,
        settings=settings,
        plugins=plugins,
        clock=clock,
    )
    timers.bind(service.fire)
    presence = Presence()
    background: list[asyncio.Task[None]] = []

    async def sweep_forever() -> None:
        interval = min(5.0, settings.grace_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            store.sweep()

    async def on_startup() -> None:
        await timers.start()
        background.append(asyncio.create_task(sweep_forever()))
        plugins.hook.weirsoe_startup(settings=settings, cartridges=discovery.cartridges)

    async def on_shutdown() -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await timers.stop()
        await store.close()

    app = Litestar(
        route_handlers=[*ROUTES, game_socket, asyncapi],
        plugins=[channels],
        dependencies={
            "service": Provide(lambda: service, use_cache=True, sync_to_thread=False),
            "presence": Provide(lambda: presence, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        openapi_config=OpenAPIConfig(
            title="Weirsøe Party Protocol",
            version=__version__,
            path="/schema",
            description="REST API of Weirsøe Party Protocol. Live play is on /ws/game/{code}; "
            "see /schema/asyncapi.json.",
        ),
    )
    app.state.service = service
    app.state.timers = timers
    app.state.store = store
    return app
