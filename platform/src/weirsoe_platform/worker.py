"""``weirsoe worker``: a process that fires phase timers for every room, over Redis.

It imports only what firing timers needs: the SDK's runtime, the session service, the Redis
store and taskiq (no Litestar, no SQLAlchemy, no Alembic), so it starts in about a second.

It stops within 2 s of SIGTERM (or SIGINT) at any point of its life:

- while Python and the CLI import, the default action ends the process;
- from :func:`install_signal_handlers` on, a signal that arrives before the event loop runs
  exits at once (nothing to clean up yet); once it runs, the signal sets the stop event, the
  worker cancels its loops and closes the broker with a 0.5 s budget, and a watchdog thread
  ends the process after ``GRACE`` seconds whatever a library call is waiting on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import PlatformSettings
    from .timers import TimerWorker

__all__ = ["GRACE", "build_worker", "exit_if_signalled", "install_signal_handlers", "run_worker"]

log = logging.getLogger("weirsoe.worker")
GRACE = 1.0


class _Stopping:
    loop: asyncio.AbstractEventLoop | None = None
    event: asyncio.Event | None = None
    signalled = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    first = not _Stopping.signalled
    _Stopping.signalled = True
    loop, event = _Stopping.loop, _Stopping.event
    if loop is None or event is None or loop.is_closed():
        os._exit(0)  # still starting: nothing connected, nothing to clean up
    if first:
        watchdog = threading.Timer(GRACE, os._exit, (0,))
        watchdog.daemon = True
        watchdog.start()
    loop.call_soon_threadsafe(event.set)


def install_signal_handlers() -> None:
    """Call first thing: SIGTERM and SIGINT stop the worker at any point from here on."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_signal)


def exit_if_signalled() -> None:
    """After a signalled stop everything is closed: skip the interpreter's teardown of ~200
    modules, which took about a second on a loaded machine, and exit now."""
    if _Stopping.signalled:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def build_worker(settings: PlatformSettings) -> tuple[TimerWorker, Any]:
    """The timer worker and the Redis store it fires through (nothing connects yet)."""
    from weirsoe_sdk import discover_cartridges, get_plugin_manager

    from .sessions import SessionService
    from .sessions._redis_counter import RedisAudienceCounter
    from .sessions._redis_store import RedisSessionStore, connect_redis
    from .timers import RedisDeadlines, TimerWorker, make_broker

    assert settings.redis_url is not None
    plugins = get_plugin_manager()
    discovery = discover_cartridges(plugins, config={"content_dir": settings.content_dir})
    for error in discovery.errors:
        log.error("cartridge not loaded: %s", error)
    redis = connect_redis(settings.redis_url)
    prefix = settings.redis_prefix
    store = RedisSessionStore(redis, prefix=prefix)
    deadlines = RedisDeadlines(redis, prefix=prefix, ttl=settings.game_ttl, fast=store.fast)
    service = SessionService(
        cartridges=discovery,
        store=store,
        deadlines=deadlines,
        settings=settings,
        plugins=plugins,
        channel_prefix=f"{prefix}:",
        # A deadline can end a phase with audience tallies: the worker freezes and reads the
        # same Redis counters the servers count votes in.
        counter=RedisAudienceCounter(redis, prefix=prefix, fast=store.fast),
    )
    worker = TimerWorker(
        deadlines=deadlines,
        broker=make_broker(settings.redis_url, prefix=prefix),
        fire=service.fire,
        wake_url=settings.redis_url,
    )
    if settings.metrics_port is not None:
        _serve_metrics(settings.metrics_port, service, worker)
    return worker, store


def _serve_metrics(port: int, service: Any, worker: TimerWorker) -> None:
    """``metrics_port``: this worker's metrics (timer lateness, heartbeats, Redis errors) on
    ``http://127.0.0.1:PORT/metrics`` (loopback only: a scraper on the same host or a sidecar)."""
    from prometheus_client import start_http_server

    from .metrics import Metrics

    metrics = Metrics()
    service.metrics = worker.metrics = metrics
    start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    log.info("worker metrics on http://127.0.0.1:%d/metrics", port)


async def run_worker(settings: PlatformSettings) -> None:
    stop = asyncio.Event()
    _Stopping.loop, _Stopping.event = asyncio.get_running_loop(), stop
    if _Stopping.signalled:
        return
    worker, store = build_worker(settings)
    starting = asyncio.create_task(worker.start())
    waiting = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done() and not stop.is_set():
            starting.result()
            log.info("timer worker %s started", worker.id)
            await waiting
    finally:
        starting.cancel()
        waiting.cancel()
        await worker.stop(timeout=0.5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(store.close(), 0.5)
        _Stopping.loop = _Stopping.event = None
