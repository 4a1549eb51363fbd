"""REST: ``/api/auth/*`` (register, login, logout, me) and ``/api/presets``.

Only ``/api/auth/me`` and ``/api/presets`` sit behind the JWT middleware (see ``_plugin.py``);
every other route, and all of playing, stays account-free.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import HttpMethod, Request, Response, delete, get, post, put, route
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from ..errors import error_responses
from ..security import client_address
from ..sessions import Unauthorized
from ._plugin import COOKIE_NAME, AccountsPlugin
from ._presets import MAX_NAME
from ._service import MAX_PASSWORD, MIN_PASSWORD, USERNAME, Account

__all__ = ["PROTECTED_ROUTES", "PUBLIC_ROUTES", "REQUEST_BODIES"]


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    """A sign-in: any strings (a wrong pair is a 401, never a hint of which part was wrong)."""

    username: Annotated[str, msgspec.Meta(max_length=256)]
    password: Annotated[str, msgspec.Meta(max_length=4 * MAX_PASSWORD)]


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    """A new account: the username's and password's rules are in the schema."""

    username: Annotated[str, msgspec.Meta(pattern=f"^{USERNAME.pattern}$")]
    password: Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]


class Username(msgspec.Struct):
    username: str


class SignedIn(msgspec.Struct):
    token: str
    username: str


# 1 to 64 printable characters once trimmed (``check_name`` in ``_presets.py``).
PresetName = Annotated[
    str, msgspec.Meta(max_length=MAX_NAME, pattern=r"^\s*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")
]


class PresetIn(msgspec.Struct, forbid_unknown_fields=True):
    cartridge: str
    name: PresetName
    settings: dict[str, Any] | None = None


class PresetChange(msgspec.Struct, forbid_unknown_fields=True):
    name: PresetName | None = None
    settings: dict[str, Any] | None = None
    cartridge: str | None = None


@post(
    "/api/auth/register",
    tags=["accounts"],
    status_code=201,
    responses=error_responses(400, 403, 409, 422, 429, 503),
)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[Registration],
    accounts: NamedDependency[AccountsPlugin],
) -> Username:
    """Create a host account. Usernames: 3–32 of ``[A-Za-z0-9_.-]``; passwords: 8+ characters."""
    user = await accounts.users.register(
        data.username, data.password, address=client_address(request)
    )
    return Username(username=user.username)


@post(
    "/api/auth/login",
    tags=["accounts"],
    status_code=200,
    responses=error_responses(400, 401, 429, 503),
)
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[Credentials],
    accounts: NamedDependency[AccountsPlugin],
) -> Response[SignedIn]:
    """Sign in: the token in the body (for ``Authorization: Bearer``) and an HttpOnly cookie."""
    user = await accounts.users.login(data.username, data.password, address=client_address(request))
    token = accounts.token(user)
    return Response(SignedIn(token=token, username=user.username), cookies=[accounts.cookie(token)])


@post("/api/auth/logout", tags=["accounts"], status_code=204, responses=error_responses(503))
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


@get("/api/auth/me", tags=["accounts"], responses=error_responses(401, 503))
async def me(request: Request[Account, Any, Any]) -> Username:
    """Who is signed in (401 if nobody)."""
    return Username(username=request.user.username)


@get("/api/presets", tags=["presets"], responses=error_responses(401, 503))
async def list_presets(
    request: Request[Account, Any, Any], accounts: NamedDependency[AccountsPlugin]
) -> dict[str, Any]:
    """Your presets. One whose cartridge is not installed has ``available: false``."""
    return {"presets": await accounts.presets.list_owned(request.user.id)}


@post(
    "/api/presets",
    tags=["presets"],
    status_code=201,
    responses=error_responses(400, 401, 409, 422, 503),
)
async def create_preset(
    request: Request[Account, Any, Any],
    data: JSONBody[PresetIn],
    accounts: NamedDependency[AccountsPlugin],
) -> dict[str, Any]:
    """Save settings for a cartridge under a name; they are validated by its schema."""
    return await accounts.presets.create(request.user.id, data.cartridge, data.name, data.settings)


@get(
    "/api/presets/{preset_id:int}", tags=["presets"], responses=error_responses(400, 401, 404, 503)
)
async def get_preset(
    request: Request[Account, Any, Any],
    preset_id: FromPath[int],
    accounts: NamedDependency[AccountsPlugin],
) -> dict[str, Any]:
    return await accounts.presets.get(request.user.id, preset_id)


@put(
    "/api/presets/{preset_id:int}",
    tags=["presets"],
    responses=error_responses(400, 401, 404, 409, 422, 503),
)
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


@delete(
    "/api/presets/{preset_id:int}",
    tags=["presets"],
    status_code=204,
    responses=error_responses(400, 401, 404, 503),
)
async def delete_preset(
    request: Request[Account, Any, Any],
    preset_id: FromPath[int],
    accounts: NamedDependency[AccountsPlugin],
) -> None:
    await accounts.presets.delete(request.user.id, preset_id)


def _allow(*methods: str) -> Response[None]:
    return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})


# Litestar 2 answers OPTIONS on a path served by several handlers with the methods of the first
# one registered only (litestar-org/litestar#4169, fixed in 3.0), so these two paths answer it
# themselves, registered before the path's other handlers.
@route("/api/presets", http_method=[HttpMethod.OPTIONS], include_in_schema=False, status_code=204)
async def presets_options() -> Response[None]:
    return _allow("GET", "POST", "OPTIONS")


@route(
    "/api/presets/{preset_id:int}",
    http_method=[HttpMethod.OPTIONS],
    include_in_schema=False,
    status_code=204,
)
async def preset_options(preset_id: FromPath[int]) -> Response[None]:
    return _allow("GET", "PUT", "DELETE", "OPTIONS")


PUBLIC_ROUTES = [register, login, logout, sign_in_status]
# The OPTIONS handlers come first: a path's first registration must own its OPTIONS (see
# above). The JWT middleware lets OPTIONS through.
PROTECTED_ROUTES = [
    presets_options,
    preset_options,
    me,
    list_presets,
    create_preset,
    get_preset,
    update_preset,
    delete_preset,
]

# Request bodies whose OpenAPI schema is msgspec's own (unknown fields forbidden, bounds stated).
REQUEST_BODIES: tuple[type[msgspec.Struct], ...] = (
    Credentials,
    Registration,
    PresetIn,
    PresetChange,
)
