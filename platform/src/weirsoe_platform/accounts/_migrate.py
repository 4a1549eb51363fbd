"""Migrations for every installed package: the platform's first, then each cartridge's.

Each package keeps its own Alembic revisions (a folder shipped as package data) and its own
version table ``alembic_version_<name>``, so a cartridge installed later gets its tables on the
next upgrade and never touches another package's history. No ``alembic.ini`` or ``env.py`` is
involved: the revisions run here, programmatically, one transaction per package.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from weirsoe_sdk import ModelBase, PresetModel

from ._db import migration_engine

__all__ = [
    "PLATFORM_MIGRATIONS",
    "MigrationSource",
    "PackageStatus",
    "migration_sources",
    "status",
    "upgrade",
]

log = logging.getLogger("weirsoe.db")

PLATFORM_MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = zlib.crc32(b"weirsoe-migrations")


@dataclass(frozen=True)
class MigrationSource:
    """One package's revisions and the version table that records them."""

    name: str
    path: Path

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    def script(self) -> ScriptDirectory:
        return ScriptDirectory(str(self.path), version_locations=[str(self.path)])


@dataclass(frozen=True)
class PackageStatus:
    name: str
    current: str | None
    head: str | None
    previous: str | None = None
    """Before this upgrade (``upgrade`` only)."""

    @property
    def pending(self) -> bool:
        return self.current != self.head


def migration_sources(models: Mapping[str, PresetModel]) -> list[MigrationSource]:
    """The platform first, then every cartridge with a preset model, by slug."""
    out = [MigrationSource("platform", PLATFORM_MIGRATIONS)]
    out += [MigrationSource(slug, Path(models[slug].migrations)) for slug in sorted(models)]
    return out


def _context(
    conn: Connection, source: MigrationSource, script: ScriptDirectory, fn: Any = None
) -> MigrationContext:
    return MigrationContext.configure(
        conn,
        opts={
            "version_table": source.version_table,
            "script": script,
            "fn": fn,
            "target_metadata": ModelBase.metadata,
            "render_as_batch": True,
            # Always inside our own transaction (BEGIN IMMEDIATE on SQLite), see _db.py.
            "transactional_ddl": True,
        },
    )


def _upgrade_sync(conn: Connection, source: MigrationSource) -> PackageStatus:
    if conn.dialect.name == "postgresql":
        # Two processes upgrading at once take turns; the second then finds nothing to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    script = source.script()

    def revisions(rev: Any, context: Any) -> Any:
        # What `alembic upgrade heads` runs, built from public names (ScriptDirectory's
        # iterate_revisions and revision_map, MigrationStep) rather than the private helper
        # alembic's own command uses.
        scripts = script.iterate_revisions("heads", rev, implicit_base=True)
        return [
            MigrationStep.upgrade_from_script(script.revision_map, s)
            for s in reversed(list(scripts))
        ]

    ctx = _context(conn, source, script, revisions)
    before = ctx.get_current_revision()
    with Operations.context(ctx):
        ctx.run_migrations()
    after = ctx.get_current_revision()
    if before != after:
        log.info("database: %s upgraded %s -> %s", source.name, before or "(empty)", after)
    return PackageStatus(source.name, after, script.get_current_head(), before)


def _status_sync(conn: Connection, source: MigrationSource) -> PackageStatus:
    script = source.script()
    current = _context(conn, source, script).get_current_revision()
    return PackageStatus(source.name, current, script.get_current_head())


async def upgrade(url: str, sources: Iterable[MigrationSource]) -> list[PackageStatus]:
    """Apply every pending revision of every source, each in its own transaction.

    :raises Exception: the first failure; packages before it stay upgraded.
    """
    engine = migration_engine(url)
    out = []
    try:
        for source in sources:
            async with engine.begin() as conn:
                out.append(await conn.run_sync(_upgrade_sync, source))
    finally:
        await engine.dispose()
    return out


async def status(url: str, sources: Iterable[MigrationSource]) -> list[PackageStatus]:
    """Each package's current and head revision, changing nothing."""
    engine = migration_engine(url)
    out = []
    try:
        async with engine.connect() as conn:
            for source in sources:
                out.append(await conn.run_sync(_status_sync, source))
    finally:
        await engine.dispose()
    return out
