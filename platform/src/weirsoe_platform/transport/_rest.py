"""REST: the lobby, joining, host controls, and an action fallback for the WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from weirsoe_sdk import MAX_NAME_LENGTH

from ..accounts import AccountsPlugin, InvalidValue
from ..errors import error_responses
from ..security import Guard, bearer_token, client_address
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
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
    return token


def _base_url(request: Request[Any, Any, Any], service: SessionService) -> str:
    public = service.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


@get("/healthz", tags=["operations"])
async def healthz(service: NamedDependency[SessionService]) -> dict[str, Any]:
    """Liveness: 200 while the process runs. It does no I/O (no Redis, no database), so an
    orchestrator restarts the process only when the process itself is stuck.

    ``sessions`` is given by stores that count in memory (embedded mode) and is null otherwise.
    """
    return {
        "status": "ok",
        "sessions": service.store.local_count(),
        "cartridges": sorted(service.cartridges.cartridges),
    }


@get(
    "/readyz",
    tags=["operations"],
    responses={503: ResponseSpec(data_container=dict[str, Any], description="not ready")},
)
async def readyz(
    service: NamedDependency[SessionService], accounts: NamedDependency[AccountsPlugin]
) -> Response[dict[str, Any]]:
    """Readiness: 200 when the state store (Redis) and the database answer within 2 s each,
    else 503 with ``Retry-After``; a load balancer stops sending traffic meanwhile."""
    store, database = await asyncio.gather(
        _answers(service.store.ping()), _answers(accounts.ping())
    )
    ready = store and database
    body = {"status": "ready" if ready else "unavailable", "store": store, "database": database}
    if ready:
        return Response(body, status_code=200)
    return Response(body, status_code=503, headers={"Retry-After": "1"})


async def _answers(check: Awaitable[bool], timeout: float = 2.0) -> bool:
    try:
        return bool(await asyncio.wait_for(check, timeout))
    except Exception:
        return False


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
                "has_ui": cartridge.ui_dir is not None,  # else pages use the generic view
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


async def _looked_up(
    guard: Guard, request: Request[Any, Any, Any], lookup: Callable[[], Awaitable[T]]
) -> T:
    """Run a lookup by room code, counting unknown codes against the client's address.

    Every endpoint that takes a room code goes through here: an address that has guessed too
    many codes gets 429 on all of them, whether they would answer 404 or 403."""
    address = client_address(request)
    await guard.check_lookup(address)
    try:
        return await lookup()
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
    info = await _looked_up(guard, request, lambda: service.info(code))
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
    """Join with a name, or rejoin with a known ``token`` (same seat). Rate-limited: every
    attempt counts, with or without a token."""
    await guard.check_join(client_address(request))
    player_id, token, rejoined = await _looked_up(
        guard, request, lambda: service.join(code, data.name, data.token)
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
    await guard.check_join(client_address(request))
    member, token = await _looked_up(guard, request, lambda: service.audience.join(code))
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
    guard: NamedDependency[Guard],
) -> dict[str, bool]:
    """Host only: an audience member's votes no longer count (``audience_kicked``), and its
    token no longer connects."""
    token = _bearer(request)
    await _looked_up(guard, request, lambda: service.audience.kick(code, token, audience_id))
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
    guard: NamedDependency[Guard],
) -> ControlDone:
    """Host only: remove a player. Their token is revoked and their sockets close with 4408."""
    token = _bearer(request)
    table = await _looked_up(guard, request, lambda: service.kick(code, token, player_id))
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
    guard: NamedDependency[Guard],
) -> ControlDone:
    """Host controls with ``Authorization: Bearer <host_token>``: play, pause, resume, exit,
    lock/unlock (no new players), audience_on/audience_off, and ``again``: after the game is
    over, another game in the same room with the same seats (``settings`` may change single
    settings). There is no skip."""
    if data.settings is not None and data.action != "again":
        raise InvalidValue("settings: only with the action 'again'", field="settings")
    token = _bearer(request)
    action, settings = data.action, data.settings

    async def apply() -> Any:
        if action in ("audience_on", "audience_off"):
            return await service.audience.set_enabled(code, token, action == "audience_on")
        if action in ("lock", "unlock"):
            return await service.lock(code, token, action == "lock")
        return await service.control(code, token, action, settings)

    table = await _looked_up(guard, request, apply)
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
    guard: NamedDependency[Guard],
) -> ActionDone:
    """A player's action with ``Authorization: Bearer <player token>`` (WebSocket fallback)."""
    token = _bearer(request)
    viewer = await _looked_up(guard, request, lambda: service.authenticate(code, "player", token))
    assert viewer.player_id is not None
    step = await service.act(code, viewer.player_id, data.action, data.id)
    return ActionDone(version=step.table.version, duplicate=step.duplicate)


ROUTES = [
    healthz,
    readyz,
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
