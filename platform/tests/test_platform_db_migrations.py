"""Migrations from empty to head on SQLite and PostgreSQL: the platform's and every cartridge's."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from weirsoe_platform.accounts import MigrationSource, migration_sources, status, upgrade
from weirsoe_sdk import PresetModel, discover_preset_models, get_plugin_manager

PLATFORM_TABLES = {"users", "presets", "alembic_version_platform"}
LIES_TABLES = {"weirsoe_lies_presets", "alembic_version_weirsoe_lies"}
RPS_TABLES = {"rps_presets", "alembic_version_rps"}


def installed_models() -> dict[str, PresetModel]:
    models, errors = discover_preset_models(get_plugin_manager())
    assert errors == []
    return models


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_installed_cartridges_register_preset_models() -> None:
    models = installed_models()
    assert {"weirsoe_lies", "rps"} <= set(models)
    assert models["rps"].model.__tablename__ == "rps_presets"
    assert (models["weirsoe_lies"].migrations / "v0001_presets.py").is_file()


async def test_empty_to_head_creates_every_table(database_url: str) -> None:
    assert await tables(database_url) == set()
    sources = migration_sources(installed_models())
    assert next(s.name for s in sources) == "platform"  # the platform first: cartridges refer to it
    done = await upgrade(database_url, sources)
    assert all(row.current == row.head and row.previous is None for row in done)
    assert await tables(database_url) >= PLATFORM_TABLES | LIES_TABLES | RPS_TABLES
    assert not any(row.pending for row in await status(database_url, sources))
    again = await upgrade(database_url, sources)  # nothing left to do
    assert all(row.previous == row.current for row in again)


async def test_a_cartridge_installed_later_gets_its_tables_on_the_next_upgrade(
    database_url: str,
) -> None:
    models = installed_models()
    without_rps = {slug: m for slug, m in models.items() if slug != "rps"}
    await upgrade(database_url, migration_sources(without_rps))
    found = await tables(database_url)
    assert found >= PLATFORM_TABLES | LIES_TABLES
    assert not found & RPS_TABLES

    pending = await status(database_url, migration_sources(models))
    assert [row.name for row in pending if row.pending] == ["rps"]
    done = {row.name: row for row in await upgrade(database_url, migration_sources(models))}
    assert done["rps"].previous is None
    assert done["rps"].current == "rps_0001"
    assert done["platform"].previous == done["platform"].current  # untouched
    assert await tables(database_url) >= RPS_TABLES


async def test_concurrent_upgrades_take_turns(database_url: str) -> None:
    sources = migration_sources(installed_models())
    first, second = await asyncio.gather(
        upgrade(database_url, sources), upgrade(database_url, sources)
    )
    assert [r.current for r in first] == [r.current for r in second] == [r.head for r in first]


async def test_a_failing_migration_leaves_nothing_behind(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "v0001_broken.py").write_text(
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "revision = 'broken_0001'\n"
        "down_revision = None\n"
        "def upgrade():\n"
        "    op.create_table('broken_half', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "    raise RuntimeError('half-way')\n"
    )
    await upgrade(database_url, migration_sources({}))
    with pytest.raises(RuntimeError, match="half-way"):
        await upgrade(database_url, [MigrationSource("broken", folder)])
    found = await tables(database_url)
    assert "broken_half" not in found  # the whole package's upgrade is one transaction
    assert "alembic_version_broken" not in found


def weirsoe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weirsoe_platform.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        # A clean WEIRSOE_ environment, but the test-only cartridges (rps) stay visible.
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith("WEIRSOE_") or k == "WEIRSOE_TEST_CARTRIDGES"
        },
    )


async def test_weirsoe_db_upgrade_command(database_url: str) -> None:
    before = weirsoe("db", "status", "--database", database_url)
    assert before.returncode == 1, before.stderr  # pending
    assert "upgrade pending" in before.stdout

    done = weirsoe("db", "upgrade", "--database", database_url)
    assert done.returncode == 0, done.stderr
    for name in ("platform", "weirsoe_lies", "rps"):
        assert name in done.stdout
    assert await tables(database_url) >= PLATFORM_TABLES | LIES_TABLES | RPS_TABLES

    after = weirsoe("db", "status", "--database", database_url)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "pending" not in after.stdout


def test_weirsoe_db_upgrade_reports_an_unreachable_database() -> None:
    out = weirsoe("db", "upgrade", "--database", "postgresql://postgres@127.0.0.1:1/nothing")
    assert out.returncode == 2
    assert "weirsoe db: error:" in out.stderr


def test_serve_creates_and_upgrades_sqlite_in_the_working_folder(tmp_path: Path) -> None:
    """No --database: ``weirsoe.db`` in the working folder, upgraded at startup."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WEIRSOE_") or k == "WEIRSOE_TEST_CARTRIDGES"
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "weirsoe_platform.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            end = time.monotonic() + 90  # a loaded CI machine imports slowly
            while time.monotonic() < end:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise AssertionError(log.read_text())
            reply = httpx.post(
                base + "/api/auth/register", json={"username": "host1", "password": "long enough"}
            )
            assert reply.status_code == 201, reply.text
        finally:
            proc.terminate()
            proc.wait(10)
    assert (tmp_path / "weirsoe.db").is_file()
    found = asyncio.run(tables(f"sqlite+aiosqlite:///{tmp_path / 'weirsoe.db'}"))
    assert found >= PLATFORM_TABLES | LIES_TABLES | RPS_TABLES
    assert "secret_key" in log.read_text()  # warned: a generated key does not survive restarts
