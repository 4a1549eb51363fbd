"""Database engines: URL normalisation, SQLite's connection pragmas, and sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from .._extras import require_extra
from ..config import DEFAULT_DATABASE_URL

__all__ = ["DEFAULT_DATABASE_URL", "Database", "async_url", "engine_url", "migration_engine"]

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """The URL with the async driver we ship: ``sqlite://`` → aiosqlite, ``postgresql://``
    (or ``postgres://``) → asyncpg. A URL that names a driver is kept as it is."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{_DRIVERS.get(scheme, scheme)}://{rest}"


def engine_url(url: str) -> str:
    """:func:`async_url`, checking that its driver is installed.

    :raises MissingExtra: a PostgreSQL URL without the ``[postgres]`` extra (asyncpg).
    """
    url = async_url(url)
    if make_url(url).get_driver_name() == "asyncpg":
        require_extra("postgres")
    return url


def is_sqlite(url: str) -> bool:
    return make_url(async_url(url)).get_backend_name() == "sqlite"


def _sqlite_foreign_keys(engine: AsyncEngine) -> None:
    """SQLite enforces foreign keys (and so ``ON DELETE CASCADE``) only when asked, per
    connection."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def migration_engine(url: str) -> AsyncEngine:
    """An engine for migrations: no pool, and on SQLite a real transaction around DDL.

    Python's sqlite3 driver does not put DDL in a transaction by itself; we switch its implicit
    handling off and begin ``IMMEDIATE``, so an upgrade is all-or-nothing and two processes
    upgrading the same file at once take turns instead of colliding.
    """
    engine = create_async_engine(engine_url(url), poolclass=NullPool)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """The engine and session factory of one database URL. Connects lazily."""

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        self.engine = create_async_engine(self.url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            _sqlite_foreign_keys(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> AsyncSession:
        return self.sessions()

    def safe_url(self) -> str:
        """The URL without its password, for logs."""
        return self.safe(self.url)

    @staticmethod
    def safe(url: str) -> str:
        return make_url(async_url(url)).render_as_string(hide_password=True)

    async def ping(self) -> bool:
        """True if the database answers ``SELECT 1`` (for ``/readyz``)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        await self.engine.dispose()
