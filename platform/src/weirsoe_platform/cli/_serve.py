"""``weirsoe serve``: run the server (embedded by default)."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from weirsoe_sdk import InvalidSettings

from ..config import DEFAULT_DATABASE_URL
from ._common import CliError

__all__ = ["add_server_commands", "freeze_startup_heap"]


def freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, the app, the cartridges: about 140,000
    objects) out of the garbage collector's sight, so that a full collection scans only what
    the rooms and sockets allocate. Measured: a full collection took 90-150 ms of CPU with
    100 rooms open, most of it re-scanning start-up objects, and stalled the event loop for
    that long (docs/performance.md). Frozen objects are still freed by reference counting."""
    import gc

    gc.collect()
    gc.freeze()


def add_server_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the server (embedded: memory state, in-process timers, no services needed)",
    )
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    serve.add_argument(
        "--public-url", dest="public_url", help="URL players use to reach this server"
    )
    serve.add_argument("--redis", dest="redis_url", help="Redis URL: run distributed")
    serve.add_argument(
        "--database",
        dest="database_url",
        help=f"database URL for accounts/presets (default {DEFAULT_DATABASE_URL} in this folder)",
    )
    serve.add_argument("--content-dir", dest="content_dir", help="folder of extra content packs")
    serve.add_argument(
        "--grace-seconds",
        dest="grace_seconds",
        type=float,
        help="how long final results stay readable (default 600)",
    )
    serve.add_argument(
        "--lobby-ttl",
        dest="lobby_ttl",
        type=float,
        help="seconds an idle lobby lives (default 7200)",
    )
    serve.add_argument("--log-level", dest="log_level", help="debug, info, warning, error")
    serve.add_argument(
        "--with-worker",
        dest="with_worker",
        action="store_true",
        default=None,
        help="with --redis: also fire timers in this process",
    )
    serve.set_defaults(func=_serve)

    worker = commands.add_parser(
        "worker", help="fire phase timers (distributed mode, needs --redis)"
    )
    worker.add_argument("--redis", dest="redis_url", help="Redis URL (or WEIRSOE_REDIS_URL)")
    worker.add_argument("--content-dir", dest="content_dir", help="folder of extra content packs")
    worker.add_argument("--log-level", dest="log_level", help="debug, info, warning, error")
    worker.set_defaults(func=_worker)


def _settings(args: argparse.Namespace) -> Any:
    from ..config import settings_from_env

    keys = [
        "host",
        "port",
        "public_url",
        "redis_url",
        "database_url",
        "content_dir",
        "grace_seconds",
        "lobby_ttl",
        "log_level",
        "with_worker",
    ]
    try:
        return settings_from_env({k: getattr(args, k, None) for k in keys})
    except InvalidSettings as exc:
        raise CliError(exc.message) from None


def _log_config(level: str) -> dict[str, Any]:
    """The platform's logging config, with taskiq's loggers held at WARNING (DEBUG with
    ``--log-level debug``): its receiver logs a line at INFO for every task, that is for every
    phase timer that fires, which cost 10-20 % of the server's CPU per timer-driven message."""
    import logging

    from ..web._logging import configure_logging

    config = configure_logging(level)
    chosen = logging.getLevelName(level.upper())
    quiet = chosen if isinstance(chosen, int) and chosen != logging.INFO else logging.WARNING
    config["loggers"]["taskiq"] = {"level": logging.getLevelName(quiet)}
    return config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..web import create_app

    settings = _settings(args)
    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)  # the last hook: after everything is loaded
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=_log_config(settings.log_level),
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        lifespan="on",
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    import asyncio
    import logging.config

    from .._extras import require_extra

    settings = _settings(args)
    if settings.redis_url is None:
        raise CliError("a worker needs Redis: pass --redis URL or set WEIRSOE_REDIS_URL")
    require_extra("redis")
    from ..worker import run_worker

    logging.config.dictConfig(_log_config(settings.log_level))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))
    return 0
