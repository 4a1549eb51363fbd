"""Wiring accounts and presets into the app: database, JWT (bearer or cookie), routes.

The JWT middleware guards only the routes that need an account (a router of its own), never
the app as a whole: rooms, joining and playing stay account-free.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

import pluggy
from litestar import Request, Router
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.security.jwt import JWTCookieAuth, Token

from weirsoe_sdk import Discovery, PresetModel, discover_preset_models

from ..config import PlatformSettings
from ..security import MemoryRateLimiter, RateLimiter, bearer_token
from ..sessions import Unauthorized
from ._db import Database
from ._errors import PresetConflict
from ._migrate import migration_sources, status, upgrade
from ._presets import PresetStore
from ._service import Account, Accounts, Limits

__all__ = ["COOKIE_NAME", "TOKEN_LIFETIME", "AccountsPlugin"]

log = logging.getLogger("weirsoe.accounts")

COOKIE_NAME = "weirsoe_auth"
# The sign-in token, sent as ``Authorization: Bearer`` (or as the ``weirsoe_auth`` cookie, which
# the browser pages use). An ``http`` scheme carries no ``name``/``in``: that is ``apiKey`` only,
# so Litestar's own component for JWTCookieAuth is replaced by this valid one.
BEARER_COMPONENTS = Components(
    security_schemes={
        "BearerToken": SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="The token from POST /api/auth/login, as `Authorization: Bearer <token>`"
            " (the `weirsoe_auth` cookie works too).",
        )
    }
)
TOKEN_LIFETIME = timedelta(days=7)
GENERATION_CLAIM = "gen"  # the account's token generation, checked on every use


class AccountsPlugin(InitPluginProtocol):
    """Host accounts and presets for one app. Handlers get it as the ``accounts`` dependency."""

    def __init__(
        self,
        settings: PlatformSettings,
        *,
        cartridges: Discovery,
        plugins: pluggy.PluginManager,
        limiter: RateLimiter | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.models: dict[str, PresetModel]
        self.models, errors = discover_preset_models(plugins)
        for error in errors:
            log.error("preset model not loaded: %s", error)
        self.users = Accounts(
            self.db,
            limiter=limiter or MemoryRateLimiter(),
            allow_registration=settings.allow_registration,
            limits=limits,
        )
        self.presets = PresetStore(self.db, cartridges=cartridges, models=self.models)
        users = self.users

        async def retrieve_user(
            token: Token, connection: ASGIConnection[Any, Any, Any, Any]
        ) -> Account | None:
            # A plain function, not a bound method: Litestar deep-copies routers' middleware.
            return await _user_of(users, token)

        self.auth = JWTCookieAuth[Account, Token](
            retrieve_user_handler=retrieve_user,
            token_secret=self._secret(settings),
            key=COOKIE_NAME,
            secure=bool(settings.public_url and settings.public_url.startswith("https://")),
            samesite="lax",
            default_token_expiration=TOKEN_LIFETIME,
        )

    @staticmethod
    def _secret(settings: PlatformSettings) -> str:
        if settings.secret_key:
            return settings.secret_key
        log.warning(
            "no secret_key is set (WEIRSOE_SECRET_KEY): using a random one for this process. "
            "Host sign-ins will not survive a restart and will not work across processes."
        )
        return secrets.token_urlsafe(48)

    # -- Litestar --------------------------------------------------------------------------
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        from ._routes import PROTECTED_ROUTES, PUBLIC_ROUTES

        guarded = Router(
            path="/",
            route_handlers=PROTECTED_ROUTES,
            middleware=[self.auth.middleware],
            security=[self.auth.security_requirement],
        )
        app_config.route_handlers.extend([*PUBLIC_ROUTES, guarded])
        app_config.dependencies["accounts"] = Provide(
            lambda: self, use_cache=True, sync_to_thread=False
        )
        app_config.on_startup.append(self.startup)
        app_config.on_shutdown.append(self.shutdown)
        openapi = app_config.openapi_config
        if openapi is not None:
            existing = openapi.components
            extra = existing if isinstance(existing, list) else [existing] if existing else []
            openapi.components = [*extra, BEARER_COMPONENTS]
        return app_config

    async def startup(self) -> None:
        """SQLite (embedded) is upgraded here; other databases with ``weirsoe db upgrade``.

        A database that is down or behind never stops the server: playing needs no database,
        and accounts and presets answer 503 until it is back."""
        sources = migration_sources(self.models)
        log.info("accounts database: %s", self.db.safe_url())
        try:
            if self.db.dialect == "sqlite":
                await upgrade(self.db.url, sources)
                return
            behind = [s.name for s in await status(self.db.url, sources) if s.pending]
        except Exception as exc:
            log.error("accounts database not ready: %s: %s", type(exc).__name__, exc)
            return
        if behind:
            log.warning(
                "database migrations pending for %s: run `weirsoe db upgrade`", ", ".join(behind)
            )

    async def ping(self) -> bool:
        """Does the accounts database answer? (``/readyz``)"""
        return await self.db.ping()

    async def shutdown(self) -> None:
        await self.db.close()

    # -- authentication --------------------------------------------------------------------
    def token(self, user: Account) -> str:
        """A sign-in token for ``user``, stamped with its current token generation."""
        return self.auth.create_token(
            identifier=str(user.id), token_extras={GENERATION_CLAIM: user.generation}
        )

    def cookie(self, token: str | None) -> Cookie:
        """The sign-in cookie holding ``token``, or (None) the one that clears it."""
        auth = self.auth
        return Cookie(
            key=auth.key,
            value=token or "",
            path=auth.path,
            httponly=True,
            secure=auth.secure,
            samesite=auth.samesite,
            max_age=int(TOKEN_LIFETIME.total_seconds()) if token else 0,
        )

    async def user_from(self, request: Request[Any, Any, Any]) -> Account:
        """The signed-in user of a request to a route outside the JWT middleware (the bearer
        header first, then the cookie); ``Unauthorized`` if there is none or it was revoked."""
        encoded = bearer_token(request) or request.cookies.get(self.auth.key, "")
        if not encoded:
            raise Unauthorized("sign in to use a preset")
        try:
            token = Token.decode(encoded, self.auth.token_secret, self.auth.algorithm)
        except NotAuthorizedException:
            raise Unauthorized("the sign-in token is invalid or expired") from None
        user = await _user_of(self.users, token)
        if user is None:
            raise Unauthorized("the sign-in token is invalid or expired")
        return user

    async def session_settings(
        self,
        request: Request[Any, Any, Any],
        preset_id: int,
        cartridge: str | None,
        overrides: dict[str, Any] | None,
    ) -> tuple[str, dict[str, Any]]:
        """``(cartridge, settings)`` for a new room from the signed-in user's preset; fields in
        ``overrides`` win over the preset's."""
        user = await self.user_from(request)
        slug, settings = await self.presets.for_session(user.id, preset_id)
        if cartridge is not None and cartridge != slug:
            raise PresetConflict(
                f"preset {preset_id} is for {slug!r}", code="preset_cartridge", field="cartridge"
            )
        return slug, {**settings, **(overrides or {})}


async def _user_of(users: Accounts, token: Token) -> Account | None:
    """The account a token signs in, or None if it is unknown or was revoked by a sign-out."""
    try:
        user_id = int(token.sub)
    except ValueError:
        return None
    user = await users.get(user_id)
    if user is None or token.extras.get(GENERATION_CLAIM, 0) != user.generation:
        return None
    return user
