"""REST: ``/api/auth/*`` (register, login, logout, me) and ``/api/presets``.

Only ``/api/auth/me`` and ``/api/presets`` sit behind the JWT middleware (see ``_plugin.py``);
every other route, and all of playing, stays account-free.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from ..security import client_address
from ..sessions import Unauthorized
from ._plugin import COOKIE_NAME, AccountsPlugin
from ._service import Account

__all__ = ["PROTECTED_ROUTES", "PUBLIC_ROUTES"]


class Credentials(msgspec.Struct):
    username: str = ""
    password: str = ""


class Username(msgspec.Struct):
    username: str


class SignedIn(msgspec.Struct):
    token: str
    username: str


class PresetIn(msgspec.Struct, forbid_unknown_fields=True):
    cartridge: str = ""
    name: str = ""
    settings: dict[str, Any] | None = None


class PresetChange(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    settings: dict[str, Any] | None = None
    cartridge: str | None = None


@post("/api/auth/register", tags=["accounts"], status_code=201)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    accounts: NamedDependency[AccountsPlugin],
) -> Username:
    """Create a host account. Usernames: 3–32 of ``[A-Za-z0-9_.-]``; passwords: 8+ characters."""
    user = await accounts.users.register(
        data.username, data.password, address=client_address(request)
    )
    return Username(username=user.username)


@post("/api/auth/login", tags=["accounts"], status_code=200)
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    accounts: NamedDependency[AccountsPlugin],
) -> Response[SignedIn]:
    """Sign in: the token in the body (for ``Authorization: Bearer``) and an HttpOnly cookie."""
    user = await accounts.users.login(data.username, data.password, address=client_address(request))
    token = accounts.token(user)
    return Response(SignedIn(token=token, username=user.username), cookies=[accounts.cookie(token)])


@post("/api/auth/logout", tags=["accounts"], status_code=204)
async def logout(
    request: Request[Any, Any, Any], accounts: NamedDependency[AccountsPlugin]
) -> Response[None]:
    """Sign out everywhere: clear the cookie and revoke every token issued to this user so far
    (bearer tokens included, on every server process). Without a valid token it only clears
    the cookie."""
    try:
        user = await accounts.user_from(request)
    except Unauthorized:
        user = None
    if user is not None:
        await accounts.users.revoke_tokens(user.id)
    return Response(None, status_code=204, cookies=[accounts.cookie(None)])


class SignInStatus(msgspec.Struct):
    signed_in: bool


@get("/api/auth/status", tags=["accounts"])
async def sign_in_status(request: Request[Any, Any, Any]) -> SignInStatus:
    """Whether this browser holds a sign-in cookie at all (no 401 for nobody, so pages can ask
    without an error in the console); ``/api/auth/me`` then says who, and checks the token."""
    return SignInStatus(signed_in=bool(request.cookies.get(COOKIE_NAME)))


@get("/api/auth/me", tags=["accounts"])
async def me(request: Request[Account, Any, Any]) -> Username:
    """Who is signed in (401 if nobody)."""
    return Username(username=request.user.username)


@get("/api/presets", tags=["presets"])
async def list_presets(
    request: Request[Account, Any, Any], accounts: NamedDependency[AccountsPlugin]
) -> dict[str, Any]:
    """Your presets. One whose cartridge is not installed has ``available: false``."""
    return {"presets": await accounts.presets.list_owned(request.user.id)}


@post("/api/presets", tags=["presets"], status_code=201)
async def create_preset(
    request: Request[Account, Any, Any],
    data: JSONBody[PresetIn],
    accounts: NamedDependency[AccountsPlugin],
) -> dict[str, Any]:
    """Save settings for a cartridge under a name; they are validated by its schema."""
    return await accounts.presets.create(request.user.id, data.cartridge, data.name, data.settings)


@get("/api/presets/{preset_id:int}", tags=["presets"])
async def get_preset(
    request: Request[Account, Any, Any],
    preset_id: FromPath[int],
    accounts: NamedDependency[AccountsPlugin],
) -> dict[str, Any]:
    return await accounts.presets.get(request.user.id, preset_id)


@put("/api/presets/{preset_id:int}", tags=["presets"])
async def update_preset(
    request: Request[Account, Any, Any],
    preset_id: FromPath[int],
    data: JSONBody[PresetChange],
    accounts: NamedDependency[AccountsPlugin],
) -> dict[str, Any]:
    """Rename and/or replace the settings (missing settings fields take their defaults)."""
    return await accounts.presets.update(
        request.user.id, preset_id, name=data.name, settings=data.settings, cartridge=data.cartridge
    )


@delete("/api/presets/{preset_id:int}", tags=["presets"], status_code=204)
async def delete_preset(
    request: Request[Account, Any, Any],
    preset_id: FromPath[int],
    accounts: NamedDependency[AccountsPlugin],
) -> None:
    await accounts.presets.delete(request.user.id, preset_id)


PUBLIC_ROUTES = [register, login, logout, sign_in_status]
PROTECTED_ROUTES = [me, list_presets, create_preset, get_preset, update_preset, delete_preset]
