"""Helpers for the accounts and presets tests: an app on a given database, and short calls."""

from __future__ import annotations

import asyncio
from typing import Any

from argon2 import PasswordHasher
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from weirsoe_platform.accounts import Passwords, migration_sources, upgrade
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app
from weirsoe_sdk import Discovery, discover_preset_models, get_plugin_manager

SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct horse"


def migrate(url: str) -> str:
    """PostgreSQL is upgraded by ``weirsoe db upgrade``; SQLite by the server itself."""
    if not url.startswith("sqlite"):
        models, _ = discover_preset_models(get_plugin_manager())
        asyncio.run(upgrade(url, migration_sources(models)))
    return url


def client_for(
    url: str, *, cheap_hashes: bool = True, discovery: Discovery | None = None, **settings: Any
) -> TestClient[Any]:
    app = create_app(
        PlatformSettings(database_url=url, secret_key=SECRET, **settings), discovery=discovery
    )
    if cheap_hashes:  # Argon2id still, with tiny costs: the limits tests hash dozens of times
        hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        app.state.accounts.users.passwords = Passwords(hasher)
    return TestClient(app)


def register(client: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/auth/register", json={"username": username, "password": password})


def login(client: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def sign_in(client: TestClient[Any], username: str) -> dict[str, str]:
    """Register and log in; the bearer header (the client also keeps the cookie)."""
    assert register(client, username).status_code == 201
    reply = login(client, username)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


def error(reply: Any) -> dict[str, Any]:
    body: dict[str, Any] = reply.json()["error"]
    assert body["message"]
    return body


async def scalar(url: str, sql: str, **params: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(sql), params)
    finally:
        await engine.dispose()
