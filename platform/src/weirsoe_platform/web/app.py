"""The app factory. No globals: everything is built here and injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar, Request, get
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig

from weirsoe_sdk import Discovery, discover_cartridges, get_plugin_manager

from .. import __version__
from ..accounts import AccountsPlugin
from ..config import PlatformSettings, settings_from_env
from ..security import Guard, MemoryRateLimiter, RedisRateLimiter
from ..sessions import MemorySessionStore, SessionService
from ..transport import (
    EXCEPTION_HANDLERS,
    ROUTES,
    ChannelsPublisher,
    Presence,
    SettledChannelsPlugin,
    asyncapi_document,
    game_socket,
)
from ._backends import build_backends
from ._openapi import RENDER_PLUGINS
from ._pages import PAGES

__all__ = ["create_app"]

log = logging.getLogger("weirsoe")


@get("/schema/asyncapi.json", tags=["reference"], include_in_schema=False)
async def asyncapi(
    request: Request[Any, Any, Any], service: NamedDependency[SessionService]
) -> dict[str, Any]:
    """The AsyncAPI 3.0 reference of every WebSocket message."""
    return asyncapi_document(request, service)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    discovery: Discovery | None = None,
    clock: Callable[[], float] = time.time,
) -> Litestar:
    settings = settings or settings_from_env()
    plugins = get_plugin_manager()
    discovery = discovery or discover_cartridges(
        plugins, config={"content_dir": settings.content_dir}
    )
    for error in discovery.errors:
        log.error("cartridge not loaded: %s", error)

    backends = build_backends(settings, clock=clock)
    store = backends.store
    channels = SettledChannelsPlugin(backend=backends.channels, arbitrary_channels_allowed=True)
    service = SessionService(
        cartridges=discovery,
        store=store,
        publisher=ChannelsPublisher(channels),
        deadlines=backends.deadlines,
        settings=settings,
        plugins=plugins,
        clock=clock,
        channel_prefix=backends.channel_prefix,
    )
    presence = Presence()
    if backends.redis is not None:
        limiter: Any = RedisRateLimiter(backends.redis, prefix=settings.redis_prefix)
    else:
        limiter = MemoryRateLimiter()
    guard = Guard(limiter, join_limit=settings.join_rate, unknown_limit=settings.unknown_code_rate)
    accounts = AccountsPlugin(settings, cartridges=discovery, plugins=plugins, limiter=limiter)
    background: list[asyncio.Task[None]] = []
    worker: Any = None
    if backends.local_timers is not None:
        backends.local_timers.bind(service.fire)
    elif settings.with_worker:
        from ..timers import TimerWorker, make_broker

        assert settings.redis_url is not None
        worker = TimerWorker(
            deadlines=backends.deadlines,
            broker=make_broker(settings.redis_url, prefix=settings.redis_prefix),
            fire=service.fire,
            clock=clock,
        )

    async def sweep_forever() -> None:
        interval = min(5.0, settings.grace_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            if isinstance(store, MemorySessionStore):
                store.sweep()

    async def warn_without_workers() -> None:
        from ..timers import live_workers

        await asyncio.sleep(3)
        with contextlib.suppress(Exception):
            if await live_workers(backends.redis, settings.redis_prefix) == 0:
                log.warning(
                    "no timer worker is running: phases will not end on their deadlines. "
                    "Start `weirsoe worker` with the same --redis URL, or serve with --with-worker."
                )

    async def on_startup() -> None:
        if backends.local_timers is not None:
            await backends.local_timers.start()
            background.append(asyncio.create_task(sweep_forever()))
        elif worker is not None:
            await worker.start()
        else:
            background.append(asyncio.create_task(warn_without_workers()))
        plugins.hook.weirsoe_startup(settings=settings, cartridges=discovery.cartridges)

    async def on_shutdown() -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if backends.local_timers is not None:
            await backends.local_timers.stop()
        if worker is not None:
            await worker.stop()
        with contextlib.suppress(Exception):
            await store.close()

    app = Litestar(
        route_handlers=[*ROUTES, game_socket, asyncapi, *PAGES],
        plugins=[channels, accounts],
        dependencies={
            "service": Provide(lambda: service, use_cache=True, sync_to_thread=False),
            "presence": Provide(lambda: presence, use_cache=True, sync_to_thread=False),
            "guard": Provide(lambda: guard, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        openapi_config=OpenAPIConfig(
            title="Weirsøe Party Protocol",
            version=__version__,
            path="/schema",
            description="REST API of Weirsøe Party Protocol. Live play is on /ws/game/{code}; "
            'see /schema/asyncapi.json. Every error is `{"error": {code, message, field?, '
            "details?}}`; the codes are listed in docs/errors.md.",
            render_plugins=RENDER_PLUGINS,
        ),
    )
    app.state.service = service
    app.state.guard = guard
    app.state.accounts = accounts
    app.state.timers = backends.local_timers or backends.deadlines
    app.state.worker = worker
    app.state.store = store
    return app
