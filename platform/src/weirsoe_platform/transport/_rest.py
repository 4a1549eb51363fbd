"""REST: the lobby, joining, host controls, and an action fallback for the WebSocket."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from weirsoe_sdk import MAX_NAME_LENGTH

from ..accounts import AccountsPlugin, InvalidValue
from ..errors import error_responses
from ..security import Guard
from ..sessions import SessionNotFound, SessionService, Unauthorized

__all__ = ["REQUEST_BODIES", "ROUTES", "asyncapi_document"]

T = TypeVar("T")


class CreateSession(msgspec.Struct, forbid_unknown_fields=True):
    cartridge: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    settings: dict[str, Any] | None = None
    preset_id: int | None = None


class SessionCreated(msgspec.Struct):
    code: str
    host_token: str
    join_url: str


class JoinRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=4 * MAX_NAME_LENGTH)]
    token: Annotated[str, msgspec.Meta(max_length=128)] | None = None


class Joined(msgspec.Struct):
    player_id: str
    token: str
    rejoined: bool


class AudienceJoined(msgspec.Struct):
    audience_id: str
    token: str


class ControlRequest(msgspec.Struct, forbid_unknown_fields=True):
    action: Literal[
        "play", "pause", "resume", "exit", "lock", "unlock", "again", "audience_on", "audience_off"
    ]
    settings: dict[str, Any] | None = None


class ControlDone(msgspec.Struct):
    status: str
    version: int


class ActionPost(msgspec.Struct, forbid_unknown_fields=True):
    action: dict[str, Any]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class ActionDone(msgspec.Struct):
    version: int
    duplicate: bool


def _bearer(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
    return token.strip()


def _base_url(request: Request[Any, Any, Any], service: SessionService) -> str:
    public = service.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


@get("/healthz", tags=["operations"])
async def healthz(service: NamedDependency[SessionService]) -> dict[str, Any]:
    """Liveness and a little state: how many sessions the store holds."""
    ok = await service.store.ping()
    return {
        "status": "ok" if ok else "degraded",
        "sessions": await service.count() if ok else None,
        "cartridges": sorted(service.cartridges.cartridges),
    }


@get("/api/cartridges", tags=["lobby"])
async def list_cartridges(
    request: Request[Any, Any, Any], service: NamedDependency[SessionService]
) -> dict[str, Any]:
    """The installed cartridges with their settings' JSON Schema, and where each one's actions,
    events and views are in the AsyncAPI document (``contract``)."""
    from ..reference import cartridge_links

    doc = asyncapi_document(request, service)
    out = []
    for slug in sorted(service.cartridges.cartridges):
        cartridge = service.cartridges.cartridges[slug]
        out.append(
            {
                **cartridge.describe(),
                "settings_schema": cartridge.settings_schema(),
                "contract": cartridge_links(cartridge, doc),
            }
        )
    return {"cartridges": out}


def asyncapi_document(request: Request[Any, Any, Any], service: SessionService) -> dict[str, Any]:
    """The app's AsyncAPI document, built once (the installed cartridges do not change)."""
    from ..reference import build_asyncapi

    doc: dict[str, Any] | None = request.app.state.get("asyncapi")
    if doc is None:
        doc = build_asyncapi(service.cartridges)
        request.app.state.asyncapi = doc
    return doc


@post(
    "/api/sessions",
    tags=["lobby"],
    status_code=201,
    responses=error_responses(400, 401, 404, 409, 422, 503),
)
async def create_session(
    request: Request[Any, Any, Any],
    data: JSONBody[CreateSession],
    service: NamedDependency[SessionService],
    accounts: NamedDependency[AccountsPlugin],
) -> SessionCreated:
    """Open a room. Keep ``host_token``: it is the only way to control the room.

    With ``preset_id`` (and the host's sign-in), the preset's settings are copied into the room;
    ``settings`` then override single fields, and ``cartridge`` may be omitted."""
    cartridge, settings = data.cartridge, data.settings
    if data.preset_id is not None:
        cartridge, settings = await accounts.session_settings(
            request, data.preset_id, cartridge, settings
        )
    if cartridge is None:
        raise InvalidValue("cartridge: give a cartridge or a preset_id", field="cartridge")
    code, token = await service.create(cartridge, settings)
    return SessionCreated(
        code=code, host_token=token, join_url=f"{_base_url(request, service)}/?code={code}"
    )


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def _looked_up(guard: Guard, request: Request[Any, Any, Any], lookup: Awaitable[T]) -> T:
    """Run a lookup by room code, counting unknown codes against the client's address."""
    address = _address(request)
    await guard.check_lookup(address)
    try:
        return await lookup
    except SessionNotFound:
        await guard.unknown_code(address)
        raise


@get("/api/sessions/{code:str}", tags=["lobby"], responses=error_responses(404, 429, 503))
async def session_info(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    service: NamedDependency[SessionService],
    guard: NamedDependency[Guard],
) -> dict[str, Any]:
    """Public lobby information about a room, with the link players open (``join_url``) and,
    when phones probably cannot reach this server, why and how to fix it (``join_note``), and
    the audience's numbers (``audience``). Repeated unknown codes get 429."""
    info = await _looked_up(guard, request, service.info(code))
    reach = getattr(request.app.state, "reach", None)
    info["join_url"] = f"{_base_url(request, service)}/?code={info['code']}"
    info["join_note"] = getattr(reach, "note", None)
    members, watching, enabled = await service.counter.stats(info["code"])
    info["audience"] = {"enabled": enabled, "members": members, "watching": watching}
    return info


@post(
    "/api/sessions/{code:str}/players",
    tags=["lobby"],
    status_code=201,
    responses=error_responses(400, 404, 409, 429, 503),
)
async def join_session(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    data: JSONBody[JoinRequest],
    service: NamedDependency[SessionService],
    guard: NamedDependency[Guard],
) -> Joined:
    """Join with a name, or rejoin with a known ``token`` (same seat). Rate-limited."""
    if not data.token:
        await guard.check_join(_address(request))
    player_id, token, rejoined = await _looked_up(
        guard, request, service.join(code, data.name, data.token)
    )
    return Joined(player_id=player_id, token=token, rejoined=rejoined)


@post(
    "/api/sessions/{code:str}/audience",
    tags=["audience"],
    status_code=201,
    responses=error_responses(404, 409, 429, 503),
)
async def join_audience(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    service: NamedDependency[SessionService],
    guard: NamedDependency[Guard],
) -> AudienceJoined:
    """Join the audience: no name, no seat, at any time (even mid-game or with the room full).
    Connect with ``/ws/game/{code}?role=audience&token=…`` to watch and vote. Rate-limited per
    address like player joins; 409 ``audience_off`` while the host has the audience off."""
    await guard.check_join(_address(request))
    member, token = await _looked_up(guard, request, service.audience.join(code))
    return AudienceJoined(audience_id=member, token=token)


@post(
    "/api/sessions/{code:str}/audience/{audience_id:str}/kick",
    tags=["host"],
    status_code=200,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def kick_audience(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    audience_id: FromPath[str],
    service: NamedDependency[SessionService],
) -> dict[str, bool]:
    """Host only: an audience member's votes no longer count (``audience_kicked``), and its
    token no longer connects."""
    await service.audience.kick(code, _bearer(request), audience_id)
    return {"kicked": True}


@post(
    "/api/sessions/{code:str}/players/{player_id:str}/kick",
    tags=["host"],
    status_code=200,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def kick_player(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    player_id: FromPath[str],
    service: NamedDependency[SessionService],
) -> ControlDone:
    """Host only: remove a player. Their token is revoked and their sockets close with 4408."""
    table = await service.kick(code, _bearer(request), player_id)
    return ControlDone(status=table.status, version=table.version)


@post(
    "/api/sessions/{code:str}/control",
    tags=["host"],
    status_code=200,
    responses=error_responses(400, 401, 403, 404, 409, 503),
)
async def control_session(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    data: JSONBody[ControlRequest],
    service: NamedDependency[SessionService],
) -> ControlDone:
    """Host controls with ``Authorization: Bearer <host_token>``: play, pause, resume, exit,
    lock/unlock (no new players), audience_on/audience_off, and ``again``: after the game is
    over, another game in the same room with the same seats (``settings`` may change single
    settings). There is no skip."""
    if data.settings is not None and data.action != "again":
        raise InvalidValue("settings: only with the action 'again'", field="settings")
    if data.action in ("audience_on", "audience_off"):
        on = data.action == "audience_on"
        table = await service.audience.set_enabled(code, _bearer(request), on)
    elif data.action in ("lock", "unlock"):
        table = await service.lock(code, _bearer(request), data.action == "lock")
    else:
        table = await service.control(code, _bearer(request), data.action, data.settings)
    return ControlDone(status=table.status, version=table.version)


@post(
    "/api/sessions/{code:str}/actions",
    tags=["player"],
    status_code=200,
    responses=error_responses(400, 401, 403, 404, 409, 422, 503),
)
async def post_action(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    data: JSONBody[ActionPost],
    service: NamedDependency[SessionService],
) -> ActionDone:
    """A player's action with ``Authorization: Bearer <player token>`` (WebSocket fallback)."""
    viewer = await service.authenticate(code, "player", _bearer(request))
    assert viewer.player_id is not None
    step = await service.act(code, viewer.player_id, data.action, data.id)
    return ActionDone(version=step.table.version, duplicate=step.duplicate)


ROUTES = [
    healthz,
    list_cartridges,
    create_session,
    session_info,
    join_session,
    join_audience,
    kick_audience,
    kick_player,
    control_session,
    post_action,
]

# Request bodies whose OpenAPI schema is msgspec's own (unknown fields forbidden, bounds stated).
REQUEST_BODIES: tuple[type[msgspec.Struct], ...] = (
    CreateSession,
    JoinRequest,
    ControlRequest,
    ActionPost,
)
