"""``weirsoe serve``: run the server (embedded by default)."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from weirsoe_sdk import InvalidSettings

from ..config import DEFAULT_DATABASE_URL
from ._common import CliError

__all__ = ["add_server_commands", "freeze_startup_heap", "steward_hooks"]


def freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, the app, the cartridges: about 140,000
    objects) out of the garbage collector's sight, so that a full collection scans only what
    the rooms and sockets allocate. Measured: a full collection took 90-150 ms of CPU with
    100 rooms open, most of it re-scanning start-up objects, and stalled the event loop for
    that long (docs/performance.md). Frozen objects are still freed by reference counting."""
    import gc

    gc.collect()
    gc.freeze()


def steward_hooks(interval: float) -> tuple[Any, Any]:
    """Start-up and shutdown hooks that run a :class:`~weirsoe_platform._gc.CollectorSteward`
    every ``interval`` seconds (0: only :func:`freeze_startup_heap`)."""
    if interval <= 0:
        return freeze_startup_heap, None
    from .._gc import CollectorSteward, running_tasks

    steward = CollectorSteward(interval=interval, population=running_tasks)
    return steward.start, steward.stop


def _setting(parser: Any, flags: dict[str, str], flag: str, setting: str, **kwargs: Any) -> None:
    """``flag`` sets operator setting ``setting``; ``flags`` remembers it as typed, so that
    an invalid value's error names the flag the operator used (``settings_from_env``)."""
    parser.add_argument(flag, dest=setting, **kwargs)
    flags[setting] = flag


def add_server_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the server (embedded: memory state, in-process timers, no services needed)",
    )
    flags: dict[str, str] = {}
    _setting(serve, flags, "--host", "host", help="interface to listen on (default 127.0.0.1)")
    _setting(
        serve, flags, "--port", "port", type=int, help="port (default 8000; 0 picks a free one)"
    )
    _setting(
        serve, flags, "--public-url", "public_url", help="URL players use to reach this server"
    )
    _setting(serve, flags, "--redis", "redis_url", help="Redis URL: run distributed")
    _setting(
        serve,
        flags,
        "--database",
        "database_url",
        help=f"database URL for accounts/presets (default {DEFAULT_DATABASE_URL} in this folder)",
    )
    _setting(serve, flags, "--content-dir", "content_dir", help="folder of extra content packs")
    _setting(
        serve,
        flags,
        "--grace-seconds",
        "grace_seconds",
        type=float,
        help="how long final results stay readable (default 600)",
    )
    _setting(
        serve,
        flags,
        "--lobby-ttl",
        "lobby_ttl",
        type=float,
        help="seconds an idle lobby lives (default 7200)",
    )
    _setting(serve, flags, "--log-level", "log_level", help="debug, info, warning, error")
    _setting(serve, flags, "--log-format", "log_format", help="text (default) or json")
    _setting(
        serve,
        flags,
        "--with-worker",
        "with_worker",
        action="store_true",
        default=None,
        help="with --redis: also fire timers in this process",
    )
    serve.set_defaults(func=_serve, flags=flags)

    worker = commands.add_parser(
        "worker", help="fire phase timers (distributed mode, needs --redis)"
    )
    flags = {}
    _setting(worker, flags, "--redis", "redis_url", help="Redis URL (or WEIRSOE_REDIS_URL)")
    _setting(worker, flags, "--content-dir", "content_dir", help="folder of extra content packs")
    _setting(worker, flags, "--log-level", "log_level", help="debug, info, warning, error")
    _setting(worker, flags, "--log-format", "log_format", help="text (default) or json")
    worker.set_defaults(func=_worker, flags=flags)


def _settings(args: argparse.Namespace) -> Any:
    """The settings from the environment and the command's flags (``args.flags``)."""
    from ..config import settings_from_env

    try:
        return settings_from_env({k: getattr(args, k) for k in args.flags}, flags=args.flags)
    except InvalidSettings as exc:
        raise CliError(exc.message) from None


def _log_config(settings: Any) -> dict[str, Any]:
    """The one logging configuration (see ``weirsoe_platform._logs``)."""
    from .._logs import configure_logging

    return configure_logging(settings.log_level, settings.log_format)


def _start_logging(settings: Any) -> dict[str, Any]:
    """Configure logging before anything logs, so start-up lines share the format."""
    import logging.config

    config = _log_config(settings)
    logging.config.dictConfig(config)
    logging.captureWarnings(True)  # warnings too, in the same format
    return config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .._extras import require_extra

    settings = _settings(args)
    if settings.redis_url is not None:
        require_extra("redis")  # before importing the server, which may need it
    from ..web import create_app
    from ..web._http import header_timeout_protocol
    from ..web._ws_protocol import direct_websocket_protocol

    config = _start_logging(settings)
    app = create_app(settings)
    started, stopped = steward_hooks(settings.gc_interval)
    app.on_startup.append(started)  # the last hook: after everything is loaded
    if stopped is not None:
        app.on_shutdown.insert(0, stopped)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=config,
        ws_max_size=64 * 1024,
        http=header_timeout_protocol(settings.header_timeout),
        timeout_keep_alive=settings.idle_timeout,
        ws=direct_websocket_protocol(),
        ws_per_message_deflate=False,
        lifespan="on",
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .. import worker

    worker.install_signal_handlers()
    import asyncio

    from .._extras import require_extra

    settings = _settings(args)
    if settings.redis_url is None:
        raise CliError("a worker needs Redis: pass --redis URL or set WEIRSOE_REDIS_URL")
    require_extra("redis")
    _start_logging(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(worker.run_worker(settings))
    worker.exit_if_signalled()
    return 0
