"""``weirsoe worker``: a process that fires phase timers for every room, over Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from weirsoe_sdk import discover_cartridges, get_plugin_manager

from .config import PlatformSettings
from .sessions import SessionService
from .timers import TimerWorker, make_broker
from .web._backends import build_backends

__all__ = ["run_worker"]

log = logging.getLogger("weirsoe.worker")


async def run_worker(settings: PlatformSettings) -> None:
    assert settings.redis_url is not None
    plugins = get_plugin_manager()
    discovery = discover_cartridges(plugins, config={"content_dir": settings.content_dir})
    backends = build_backends(settings)
    service = SessionService(
        cartridges=discovery,
        store=backends.store,
        deadlines=backends.deadlines,
        settings=settings,
        plugins=plugins,
        channel_prefix=backends.channel_prefix,
    )
    worker = TimerWorker(
        deadlines=backends.deadlines,
        broker=make_broker(settings.redis_url, prefix=settings.redis_prefix),
        fire=service.fire,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await worker.start()
    log.info("timer worker %s started", worker.id)
    try:
        await stop.wait()
    finally:
        await worker.stop()
        with contextlib.suppress(Exception):
            await backends.store.close()
