"""``weirsoe db upgrade`` and ``weirsoe db status``: the accounts and presets database."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from weirsoe_sdk import InvalidSettings

from ._common import CliError

__all__ = ["add_db_commands"]


def add_db_commands(commands: Any) -> None:
    db = commands.add_parser("db", help="the accounts and presets database (migrations)")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = sub.add_parser(
        "upgrade", help="apply every installed package's migrations (platform, then cartridges)"
    )
    st = sub.add_parser("status", help="each package's current and newest migration")
    for parser in (up, st):
        parser.add_argument(
            "--database", dest="database_url", help="database URL (or WEIRSOE_DATABASE_URL)"
        )
    up.set_defaults(func=_upgrade)
    st.set_defaults(func=_status)


def _sources(args: argparse.Namespace) -> tuple[str, Any]:
    from weirsoe_sdk import discover_preset_models, get_plugin_manager

    from ..accounts import migration_sources
    from ..config import settings_from_env

    try:
        settings = settings_from_env({"database_url": args.database_url})
    except InvalidSettings as exc:
        raise CliError(exc.message) from None
    plugins = get_plugin_manager()
    models, errors = discover_preset_models(plugins)
    for error in getattr(plugins, "load_errors", []):
        print(f"warning: cartridge not loaded: {error}")
    for error in errors:
        print(f"warning: preset model not loaded: {error}")
    return settings.database_url, migration_sources(models)


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except (OSError, ValueError) as exc:
        raise CliError(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "alembic")):
            raise CliError(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        raise


def _upgrade(args: argparse.Namespace) -> int:
    from ..accounts import Database, upgrade

    url, sources = _sources(args)
    print(f"database: {Database.safe(url)}")
    for row in _run(upgrade(url, sources)):
        change = (
            "up to date" if row.previous == row.current else f"from {row.previous or '(empty)'}"
        )
        print(f"  {row.name:<20} {row.current or '(empty)':<24} {change}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ..accounts import Database, status

    url, sources = _sources(args)
    print(f"database: {Database.safe(url)}")
    behind = 0
    for row in _run(status(url, sources)):
        note = "  (upgrade pending)" if row.pending else ""
        behind += row.pending
        print(f"  {row.name:<20} {row.current or '(empty)':<24} head {row.head}{note}")
    return 1 if behind else 0
