"""Host accounts over HTTP on SQLite and PostgreSQL: register, login, logout, limits, cookies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from _accounts_support import PASSWORD, client_for, error, login, register, scalar
from litestar.testing import TestClient

from weirsoe_platform.accounts import COOKIE_NAME


@pytest.fixture
def client(migrated_url: str) -> Iterator[TestClient[Any]]:
    with client_for(migrated_url) as c:
        yield c


def test_register_login_me_logout(migrated_url: str) -> None:
    with client_for(migrated_url, cheap_hashes=False) as client:
        register_login_me_logout(client)
    stored = asyncio.run(scalar(migrated_url, "SELECT password_hash FROM users"))
    assert stored.startswith("$argon2id$")


def register_login_me_logout(client: TestClient[Any]) -> None:
    reply = register(client, "Alice")
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"username": "Alice"}
    assert error(register(client, "alice"))["code"] == "username_taken"  # names ignore case
    assert register(client, "alice").status_code == 409

    reply = login(client, "alice")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["username"] == "Alice"
    assert body["token"].count(".") == 2
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/api/auth/me").json() == {"username": "Alice"}  # by the cookie

    out = client.post("/api/auth/logout")
    assert out.status_code == 204
    assert "Max-Age=0" in out.headers["set-cookie"]
    me = client.get("/api/auth/me")
    assert me.status_code == 401
    assert error(me)["code"] == "unauthorized"


def test_bearer_token_for_the_api(client: TestClient[Any]) -> None:
    register(client, "bob")
    token = login(client, "bob").json()["token"]
    client.cookies.clear()  # an API client: no cookie jar, only the header
    assert client.get("/api/auth/me").status_code == 401
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == {"username": "bob"}
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )


def test_logout_revokes_every_token_of_the_user(client: TestClient[Any]) -> None:
    """Signing out is "everywhere": a copied bearer token and another device's cookie stop
    working too, on every process (the generation lives in the database)."""
    register(client, "carol")
    laptop = login(client, "carol").json()["token"]
    phone = login(client, "carol").json()["token"]  # the cookie jar now holds this one
    bearer = {"Authorization": f"Bearer {laptop}"}
    assert client.get("/api/auth/me", headers=bearer).status_code == 200

    assert client.post("/api/auth/logout").status_code == 204  # signs out with the cookie
    for token in (laptop, phone):
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
        assert error(me)["code"] == "unauthorized"
    # Routes outside the JWT middleware (creating a room from a preset) refuse it as well.
    room = client.post("/api/sessions", json={"cartridge": "rps", "preset_id": 1}, headers=bearer)
    assert room.status_code == 401, room.text

    fresh = login(client, "carol").json()["token"]  # signing in again works at once
    client.cookies.clear()
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    )
    assert client.get("/api/auth/me", headers=bearer).status_code == 401  # the old stays revoked


def test_logout_without_a_valid_token_only_clears_the_cookie(client: TestClient[Any]) -> None:
    register(client, "dave")
    token = login(client, "dave").json()["token"]
    client.cookies.clear()
    out = client.post("/api/auth/logout", headers={"Authorization": "Bearer not-a-token"})
    assert out.status_code == 204
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("ab", PASSWORD, "username"),
        ("x" * 33, PASSWORD, "username"),
        ("no spaces", PASSWORD, "username"),
        ("émile", PASSWORD, "username"),
        ("", PASSWORD, "username"),
        ("carol", "short", "password"),
        ("carol", "", "password"),
    ],
)
def test_bad_registration_values_name_the_field(
    client: TestClient[Any], username: str, password: str, field: str
) -> None:
    # The rules are in the request schema (OpenAPI), so a value breaking them is a 400.
    reply = register(client, username, password)
    assert reply.status_code == 400, reply.text
    assert error(reply)["code"] == "bad_request"
    assert error(reply)["field"] == field


def test_usernames_allow_the_documented_characters(client: TestClient[Any]) -> None:
    for name in ("abc", "a.b-c_d", "X" * 32, "007"):
        assert register(client, name).status_code == 201, name


def test_wrong_password_is_401_then_429_after_repeated_attempts(client: TestClient[Any]) -> None:
    register(client, "dave")
    for _ in range(5):
        reply = login(client, "dave", "wrong password")
        assert reply.status_code == 401
        assert error(reply)["code"] == "bad_credentials"
    assert error(login(client, "nobody-here"))["code"] == "bad_credentials"  # same answer

    limited = login(client, "dave", "wrong password")
    assert limited.status_code == 429
    assert error(limited)["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    # Locked per username: even the right password waits until the window passes.
    assert login(client, "dave").status_code == 429
    # Another account from the same address is not locked by dave's failures.
    register(client, "erin")
    assert login(client, "erin").status_code == 200


def test_failed_logins_are_limited_per_address(client: TestClient[Any]) -> None:
    for i in range(20):
        assert login(client, f"guess{i}", "wrong password").status_code == 401
    limited = login(client, "someone-new", "wrong password")
    assert limited.status_code == 429
    assert "retry-after" in limited.headers


def test_registration_is_limited_per_address(client: TestClient[Any]) -> None:
    for i in range(10):
        assert register(client, f"user{i}").status_code == 201
    limited = register(client, "user10")
    assert limited.status_code == 429
    assert error(limited)["code"] == "rate_limited"
    assert "retry-after" in limited.headers


def test_registration_can_be_turned_off(migrated_url: str) -> None:
    with client_for(migrated_url, allow_registration=False) as client:
        reply = register(client, "frank")
        assert reply.status_code == 403
        assert error(reply)["code"] == "registration_closed"
        assert login(client, "frank").status_code == 401  # logging in still works (no such user)


def test_playing_needs_no_account(client: TestClient[Any]) -> None:
    """No auth guard on the game's routes, even with a stale token or cookie around."""
    client.cookies.set(COOKIE_NAME, "not-a-token")
    headers = {"Authorization": "Bearer not-a-jwt"}
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/cartridges", headers=headers).status_code == 200
    created = client.post("/api/sessions", json={"cartridge": "rps"}, headers=headers)
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    joined = client.post(f"/api/sessions/{code}/players", json={"name": "Pat"}, headers=headers)
    assert joined.status_code == 201, joined.text
    assert client.get(f"/api/sessions/{code}").status_code == 200


def test_a_browser_like_client_is_authenticated_by_its_cookie(client: TestClient[Any]) -> None:
    """What a browser does: log in, then just send requests; the cookie rides along."""
    register(client, "grace")
    assert login(client, "grace").status_code == 200
    assert client.cookies.get(COOKIE_NAME)
    made = client.post(
        "/api/presets", json={"cartridge": "rps", "name": "Quick", "settings": {"rounds": 1}}
    )
    assert made.status_code == 201, made.text
    room = client.post("/api/sessions", json={"preset_id": made.json()["id"]})
    assert room.status_code == 201, room.text
    listed = client.get("/api/presets").json()["presets"]
    assert [p["name"] for p in listed] == ["Quick"]


def test_a_database_that_is_down_gives_503_and_games_still_play() -> None:
    with client_for("postgresql+asyncpg://postgres@127.0.0.1:1/nothing") as client:
        reply = register(client, "ivan")
        assert reply.status_code == 503
        assert error(reply)["code"] == "database_unavailable"
        assert login(client, "ivan").status_code == 503
        assert client.post("/api/sessions", json={"cartridge": "rps"}).status_code == 201


def test_the_openapi_document_describes_accounts_and_presets(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    for path in ("/api/auth/login", "/api/auth/me", "/api/presets", "/api/presets/{preset_id}"):
        assert path in schema["paths"], path
    assert "BearerToken" in schema["components"]["securitySchemes"]
    assert schema["paths"]["/api/presets"]["get"].get("security")
    assert not schema["paths"]["/api/sessions"]["post"].get("security")
