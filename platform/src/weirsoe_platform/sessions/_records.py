"""What the store keeps per session: the SDK table plus platform-only secrets."""

from __future__ import annotations

import msgspec

__all__ = ["SessionRecord"]


class SessionRecord(msgspec.Struct, kw_only=True):
    """One room. ``table`` is the SDK runtime's encoded table; ``version`` mirrors its version
    and is what compare-and-set checks."""

    code: str
    cartridge: str
    version: int
    table: bytes
    host_token: str  # a hash, never the token
    tokens: dict[str, str] = {}  # token hash -> player id
    status: str = "lobby"
    locked: bool = False
    audience_off: bool = False
