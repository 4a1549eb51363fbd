"""Host accounts: registration and login, rate-limited, with Argon2 password hashes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..security import RateLimiter
from ..sessions import RateLimited
from ._db import Database
from ._db_errors import database_errors
from ._errors import BadCredentials, InvalidValue, RegistrationClosed, UsernameTaken
from ._models import User
from ._passwords import Passwords

__all__ = ["Account", "Accounts", "Limits"]

USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class Account:
    """Who is signed in: what handlers see as ``request.user``."""

    id: int
    username: str
    generation: int = 0  # the token generation; tokens of an older one are revoked


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Attempts allowed per window (seconds). Only failed logins count against login limits."""

    register_per_address: int = 10
    register_window: float = 3600.0
    login_failures_per_address: int = 20
    login_failures_per_username: int = 5
    login_window: float = 300.0


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise InvalidValue(
            "username: 3 to 32 characters: letters, digits, '_', '.' or '-'", field="username"
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidValue(f"password: at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidValue(f"password: at most {MAX_PASSWORD} characters", field="password")
    return password


class Accounts:
    def __init__(
        self,
        db: Database,
        *,
        limiter: RateLimiter,
        allow_registration: bool = True,
        passwords: Passwords | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.db = db
        self.limiter = limiter
        self.allow_registration = allow_registration
        self.passwords = passwords or Passwords()
        self.limits = limits or Limits()

    async def register(self, username: str, password: str, *, address: str) -> Account:
        if not self.allow_registration:
            raise RegistrationClosed("registration is turned off on this server")
        check_username(username)
        check_password(password)
        # Counted after the cheap checks: a typo costs nothing, a well-formed attempt (which
        # hashes a password) counts against the address.
        lim = self.limits
        retry = await self.limiter.hit(
            f"register:{address}", lim.register_per_address, lim.register_window
        )
        if retry is not None:
            raise RateLimited("too many registrations from this address", retry_after=retry)
        user = User(
            username=username,
            username_key=username.lower(),
            password_hash=await self.passwords.hash(password),
        )
        with database_errors():
            async with self.db.session() as session:
                session.add(user)
                try:
                    await session.commit()
                except IntegrityError:
                    raise UsernameTaken(
                        f"the username {username!r} is taken", field="username"
                    ) from None
        return Account(user.id, user.username)

    async def login(self, username: str, password: str, *, address: str) -> Account:
        lim = self.limits
        keys = [
            (f"login:address:{address}", lim.login_failures_per_address),
            (f"login:user:{username.lower()[:64]}", lim.login_failures_per_username),
        ]
        for key, limit in keys:
            retry = await self.limiter.blocked(key, limit, lim.login_window)
            if retry is not None:
                raise RateLimited("too many failed logins; wait a moment", retry_after=retry)
        with database_errors():
            async with self.db.session() as session:
                user = await session.scalar(
                    select(User).where(User.username_key == username.lower())
                )
                stored = user.password_hash if user is not None else None
                ok = await self.passwords.verify(stored, password[:MAX_PASSWORD])
                if ok and user is not None and self.passwords.needs_rehash(user.password_hash):
                    user.password_hash = await self.passwords.hash(password)
                    await session.commit()
        if not ok or user is None:
            for key, limit in keys:
                await self.limiter.hit(key, limit, lim.login_window)
            raise BadCredentials("wrong username or password")
        return Account(user.id, user.username, user.token_generation)

    async def get(self, user_id: int) -> Account | None:
        with database_errors():
            async with self.db.session() as session:
                user = await session.get(User, user_id)
        return Account(user.id, user.username, user.token_generation) if user else None

    async def revoke_tokens(self, user_id: int) -> None:
        """Sign out everywhere: every token issued to this user so far stops working."""
        with database_errors():
            async with self.db.session() as session:
                await session.execute(
                    update(User)
                    .where(User.id == user_id)
                    .values(token_generation=User.token_generation + 1)
                )
                await session.commit()
