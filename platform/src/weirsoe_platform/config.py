"""Platform settings: flags or ``WEIRSOE_*`` environment variables (see docs/running.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from weirsoe_sdk import InvalidSettings

__all__ = ["DEFAULT_DATABASE_URL", "ENV_PREFIX", "PlatformSettings", "settings_from_env"]

ENV_PREFIX = "WEIRSOE_"
#: SQLite in the working folder: the embedded default for accounts and presets.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///weirsoe.db"
Seconds = Annotated[float, msgspec.Meta(gt=0, le=7 * 24 * 3600)]
#: A Redis URL as redis-py and ``weirsoe_platform._resp`` read it: TCP, TLS, or a Unix socket.
RedisUrl = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(redis|rediss|unix)://",
        description="redis://HOST:PORT/DB, rediss:// (TLS) or unix:///PATH/TO/redis.sock",
    ),
]


class PlatformSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every operator setting. Environment variable: ``WEIRSOE_`` + the upper-case name."""

    host: str = "0.0.0.0"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    public_url: str | None = None
    redis_url: RedisUrl | None = None
    redis_prefix: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "weirsoe"
    database_url: str = DEFAULT_DATABASE_URL
    content_dir: str | None = None
    grace_seconds: Seconds = 600.0
    lobby_ttl: Seconds = 7200.0
    game_ttl: Seconds = 6 * 3600.0
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    join_rate: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 120
    unknown_code_rate: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 20
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=100_000_000)] = 64 * 1024
    header_timeout: Seconds = 10.0
    idle_timeout: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 5
    # ``weirsoe serve`` only: seconds between garbage-collector steps (weirsoe_platform._gc);
    # 0 leaves CPython's collector as it is, with only the start-up heap frozen.
    gc_interval: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 2.0
    metrics_token: str | None = None
    metrics_public: bool = False
    metrics_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    with_worker: bool = False
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    secret_key: str | None = None
    allow_registration: bool = True
    # Testing only: every room's game seed, so a conformance session replays frame for frame
    # (conformance/replay.py). Never set it for players: it makes every game the same.
    room_seed: int | None = None

    @property
    def embedded(self) -> bool:
        return self.redis_url is None


_LISTS = {"allowed_origins"}
_AT = re.compile(r" - at `\$\.([^`]*)`$")
_HINTS = {"redis_url": ": use redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH"}


def settings_from_env(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    flags: Mapping[str, str] | None = None,
) -> PlatformSettings:
    """Settings from the environment, then ``overrides`` (flags; ``None`` values ignored).
    ``flags``: each setting's flag as the command takes it (``--redis`` for ``redis_url``).

    :raises InvalidSettings: naming the field, its flag if it has one, and its variable.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    fields = PlatformSettings.__struct_fields__
    for name in fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        data[name] = [x.strip() for x in raw.split(",") if x.strip()] if name in _LISTS else raw
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    try:
        return msgspec.convert(data, PlatformSettings, strict=False)
    except msgspec.ValidationError as error:
        # The lax conversion's own message: a strict one would call every number that came
        # from the environment a string ("Expected `int`, got `str`" for WEIRSOE_JOIN_RATE=0).
        message = str(error)
        found = _AT.search(message)
        field = found.group(1).split("[")[0] if found else ""  # allowed_origins[0]: the list
        env = ENV_PREFIX + field.upper()
        flag = (flags or {}).get(field)
        where = f"flag {flag} or {env}" if flag else env
        raise InvalidSettings(
            f"{field or 'settings'}: {_AT.sub('', message)}{_HINTS.get(field, '')} ({where})",
            field=field or None,
        ) from None
