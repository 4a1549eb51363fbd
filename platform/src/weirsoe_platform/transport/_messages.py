"""WebSocket messages that are not game events: client requests and direct replies."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from weirsoe_sdk import Event

__all__ = [
    "CLIENT_MESSAGES",
    "REPLY_MESSAGES",
    "Ack",
    "ActionRequest",
    "ClientMessage",
    "ErrorReply",
    "Ping",
    "Pong",
    "SyncRequest",
    "VoteRequest",
]

MessageId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Ping(msgspec.Struct, tag_field="type", tag="ping", forbid_unknown_fields=True):
    """Keep-alive and clock probe; answered with ``pong``."""


class SyncRequest(msgspec.Struct, tag_field="type", tag="sync", forbid_unknown_fields=True):
    """Ask for a fresh ``session.snapshot`` (after a version gap, for example)."""


class ActionRequest(msgspec.Struct, tag_field="type", tag="action", forbid_unknown_fields=True):
    """A player's cartridge action. ``id`` is echoed in the ``ack`` or ``error``; re-sending
    the same id never applies the action twice."""

    id: MessageId
    action: dict[str, Any]


class VoteRequest(msgspec.Struct, tag_field="type", tag="vote", forbid_unknown_fields=True):
    """An audience member's vote in an open tally (audience sockets with a token only).
    Answered with ``ack`` (its ``version`` is 0: a vote is no transition; ``duplicate`` is true
    if it changed nothing) or ``error``. One vote per member per tally: a re-vote replaces it."""

    id: MessageId
    tally: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    choice: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


ClientMessage = Ping | SyncRequest | ActionRequest | VoteRequest
CLIENT_MESSAGES: tuple[type[msgspec.Struct], ...] = (Ping, SyncRequest, ActionRequest, VoteRequest)


class Pong(Event, tag="pong", frozen=True):
    ts: float


class Ack(Event, tag="ack", frozen=True):
    id: str
    version: int
    duplicate: bool = False


class ErrorReply(Event, tag="error", frozen=True):
    code: str
    message: str
    id: str | None = None
    field: str | None = None


REPLY_MESSAGES: tuple[type[Event], ...] = (Pong, Ack, ErrorReply)
