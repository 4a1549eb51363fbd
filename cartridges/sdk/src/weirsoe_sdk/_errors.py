"""Typed errors with stable machine codes.

Every error a client can cause carries a ``code`` that never changes between releases, so that
clients and tests can match on it, and a human ``message``. The platform maps them to HTTP
statuses and WebSocket ``error`` messages in one place.
"""

from __future__ import annotations

__all__ = [
    "CartridgeError",
    "ContentError",
    "InvalidAction",
    "InvalidSettings",
    "Refused",
    "WeirsoeError",
]


class WeirsoeError(Exception):
    """Base of every error raised by the SDK and by cartridges."""

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidAction(WeirsoeError, ValueError):
    """A player's action is not allowed now (wrong phase, bad value, the truth as a lie, …)."""

    default_code = "invalid_action"


class Refused(WeirsoeError, ValueError):
    """A join or host control is refused (``name_taken``, ``room_full``, ``game_started``, …)."""

    default_code = "refused"


class InvalidSettings(WeirsoeError, ValueError):
    """Settings failed validation; ``field`` names the offending field."""

    default_code = "invalid_settings"


class ContentError(WeirsoeError, ValueError):
    """A content pack is malformed; the message names the pack, the entry and the field."""

    default_code = "invalid_content"


class CartridgeError(WeirsoeError, RuntimeError):
    """A cartridge is broken or missing (bad registration, unknown slug)."""

    default_code = "cartridge_error"
