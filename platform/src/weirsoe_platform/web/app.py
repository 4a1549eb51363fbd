"""The app factory. No globals: everything is built here and injected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pluggy
from litestar import Litestar, Request, get
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from weirsoe_sdk import Discovery, discover_cartridges, get_plugin_manager

from .. import __version__
from .._tasks import cancel_and_wait
from ..accounts import AccountsPlugin
from ..audience import AudienceDesk
from ..config import PlatformSettings, settings_from_env
from ..metrics import Metrics, http_metrics_middleware
from ..security import Guard
from ..sessions import SessionService
from ..timers._supervise import supervise
from ..transport import (
    EXCEPTION_HANDLERS,
    ROUTES,
    Presence,
    RoomWatch,
    asyncapi_document,
    game_socket,
)
from ._backends import build_backends
from ._metrics_route import metrics_endpoint
from ._openapi import RENDER_PLUGINS
from ._pages import PAGES
from ._reach import find_reach
from ._static import conditional_get

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
    """The whole server for ``settings`` (from the environment by default).

    :raises MissingExtra: the settings ask for Redis without the ``[redis]`` extra.
    """
    settings = settings or settings_from_env()
    reach = find_reach(settings.host, settings.port, settings.public_url)
    if reach.url is not None and settings.public_url is None:
        settings = msgspec.structs.replace(settings, public_url=reach.url)
    plugins = get_plugin_manager()
    discovery = discovery or _discover(settings, plugins)
    backends = build_backends(settings, clock=clock)
    service = SessionService(
        cartridges=discovery,
        store=backends.store,
        publisher=backends.hub,
        deadlines=backends.deadlines,
        settings=settings,
        plugins=plugins,
        clock=clock,
        channel_prefix=backends.channel_prefix,
        counter=backends.counter,
    )
    service.audience = desk = AudienceDesk(service, service.counter, clock=clock)
    backends.wire(service.fire)
    guard = Guard(
        backends.limiter, join_limit=settings.join_rate, unknown_limit=settings.unknown_code_rate
    )
    accounts = AccountsPlugin(
        settings, cartridges=discovery, plugins=plugins, limiter=backends.limiter
    )
    metrics = Metrics()
    service.metrics = guard.metrics = metrics
    if backends.worker is not None:
        backends.worker.metrics = metrics
    presence = Presence()
    watch = RoomWatch()
    beat: Any = None
    redis = getattr(backends, "redis", None)
    if redis is not None:
        from ..transport._heartbeat import PresenceBeat

        beat = PresenceBeat(
            redis,
            prefix=settings.redis_prefix,
            presence=presence,
            service=service,
            fast=getattr(backends.store, "fast", None),
        )

    async def on_startup() -> None:
        if reach.note:
            log.warning("phones cannot join: %s", reach.note)
        elif reach.url:
            log.info("players join at %s/ (the big screen: %s/host)", reach.url, reach.url)
        await backends.start()
        app.state.loops = [
            asyncio.create_task(supervise("room watch", lambda: watch.watch_forever(service)))
        ]
        if beat is not None:
            app.state.loops.append(
                asyncio.create_task(supervise("presence heartbeat", beat.run_forever, cap=2.0))
            )
        app.state.audience_task = asyncio.create_task(desk.run(), name="weirsoe-audience")
        plugins.hook.weirsoe_startup(settings=settings, cartridges=discovery.cartridges)

    app = Litestar(
        route_handlers=[*ROUTES, game_socket, asyncapi, metrics_endpoint, *PAGES],
        plugins=[accounts],
        dependencies={
            "service": _singleton(service),
            "channels": _singleton(backends.hub),
            "presence": _singleton(presence),
            "guard": _singleton(guard),
            "watch": _singleton(watch),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[http_metrics_middleware(metrics), DefineMiddleware(conditional_get)],
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,  # the CLI configures logging once, for every library
        on_startup=[on_startup],
        on_shutdown=[_stop_audience, _stop_loops, backends.stop],
        openapi_config=_openapi(),
    )
    app.state.service = service
    app.state.reach = reach
    app.state.guard = guard
    app.state.watch = watch
    app.state.metrics = metrics
    app.state.presence_beat = beat
    app.state.accounts = accounts
    app.state.backends = backends
    app.state.timers = backends.timers
    app.state.worker = backends.worker
    app.state.store = backends.store
    app.state.hub = backends.hub
    return app


async def _stop_audience(app: Litestar) -> None:
    await cancel_and_wait(getattr(app.state, "audience_task", None))


async def _stop_loops(app: Litestar) -> None:
    for task in getattr(app.state, "loops", []):
        await cancel_and_wait(task)
    beat = getattr(app.state, "presence_beat", None)
    if beat is not None:  # the sockets closed already marked their players
        with contextlib.suppress(Exception):
            await asyncio.wait_for(beat.leave(), 2)


def _discover(settings: PlatformSettings, plugins: pluggy.PluginManager) -> Discovery:
    discovery = discover_cartridges(plugins, config={"content_dir": settings.content_dir})
    for error in discovery.errors:
        log.error("cartridge not loaded: %s", error)
    return discovery


def _singleton(value: object) -> Provide:
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Weirsøe Party Protocol",
        version=__version__,
        path="/schema",
        description="REST API of Weirsøe Party Protocol. Live play is on /ws/game/{code}; "
        'see /schema/asyncapi.json. Every error is `{"error": {code, message, field?, '
        "details?}}`; the codes are listed in docs/errors.md.",
        render_plugins=RENDER_PLUGINS,
    )
