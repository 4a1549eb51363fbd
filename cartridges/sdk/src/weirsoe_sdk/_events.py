"""Events: named, typed messages with an audience, and their wire encoding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

__all__ = [
    "AUDIENCE",
    "EVERYONE",
    "HOST",
    "Audience",
    "Event",
    "PlayerInfo",
    "SessionClosed",
    "SessionFinished",
    "SessionPaused",
    "SessionPlayerJoined",
    "SessionPlayerLeft",
    "SessionPlayerReconnected",
    "SessionResumed",
    "SessionSnapshot",
    "SessionStarted",
    "encode_message",
    "event_name",
    "events_schema",
    "to_players",
]


class Event(msgspec.Struct, tag_field="type", kw_only=True, frozen=True):
    """Base of every server-to-client event.

    Subclass it with ``tag="family.name"``; the tag is the event's wire ``type``.
    """


AudienceKind = Literal["everyone", "host", "players", "audience"]


class Audience(msgspec.Struct, frozen=True):
    """Who receives an event: everyone in the room, the host, some players, or the audience."""

    kind: AudienceKind
    players: tuple[str, ...] = ()


EVERYONE = Audience("everyone")
HOST = Audience("host")
AUDIENCE = Audience("audience")


def to_players(*player_ids: str) -> Audience:
    """An audience of the given players only."""
    return Audience("players", tuple(player_ids))


class PlayerInfo(msgspec.Struct, frozen=True):
    id: str
    name: str
    connected: bool


class SessionPlayerJoined(Event, tag="session.player_joined", frozen=True):
    player: PlayerInfo


class SessionPlayerLeft(Event, tag="session.player_left", frozen=True):
    player_id: str


class SessionPlayerReconnected(Event, tag="session.player_reconnected", frozen=True):
    player_id: str


class SessionStarted(Event, tag="session.started", frozen=True):
    players: list[PlayerInfo]


class SessionPaused(Event, tag="session.paused", frozen=True):
    remaining: float | None


class SessionResumed(Event, tag="session.resumed", frozen=True):
    deadline: float | None


class SessionFinished(Event, tag="session.finished", frozen=True):
    """The game is over (the driver returned ``GameOver``); ``results`` are its public results,
    the same as a snapshot's. The room stays open: the host may start another game in it
    (control ``again``, which sends ``session.new_game``) or exit."""

    results: Any


class SessionNewGame(Event, tag="session.new_game", frozen=True):
    """After a game, the host chose "Same players": the room is back in the lobby with the same
    code and seats for another game. ``settings`` are that game's (carried over, or changed by
    the host). Everyone's client redraws its lobby; players may join or leave until ``play``."""

    players: list[PlayerInfo]
    settings: dict[str, Any]


class SessionClosed(Event, tag="session.closed", frozen=True):
    """The room is gone: the host pressed exit (``host_exit``), or the state store no longer
    has it (``lost``: Redis restarted without persistence, or the room expired). Sockets close
    with 4410 after this event. (A game that ends is announced by ``session.finished``; the
    room stays open.)"""

    reason: Literal["host_exit", "lost"]


class SessionSnapshot(Event, tag="session.snapshot", frozen=True):
    """The viewer's whole view: enough to redraw the screen from nothing.

    ``audience`` is what the platform adds about the audience: whether it is enabled, how many
    joined and watch, the open tallies (name, id, choices, votes per member), and for an
    audience member its ``id`` and ``ballots``."""

    code: str
    cartridge: str
    status: Literal["lobby", "running", "paused", "over", "closed"]
    role: Literal["host", "player", "audience"]
    player_id: str | None
    players: list[PlayerInfo]
    remaining: float | None
    view: Any
    results: Any
    audience: Any = None


_ENCODER = msgspec.json.Encoder()


def event_name(event_type: type[Event]) -> str:
    """The wire ``type`` of an event class."""
    tag = event_type.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def encode_message(
    event: Event, *, version: int, server_time: float, deadline: float | None
) -> bytes:
    """Encode an event once, wrapped in the envelope every message carries.

    The envelope adds ``version`` (the session version after the change), ``ts`` (server time,
    seconds since the epoch) and ``deadline`` (the running deadline, or null). An event that
    has a ``deadline`` field of its own keeps it, and the envelope does not repeat the key.
    """
    # One formatting of the head and one copy of the body: at 500 rooms this runs about 3,000
    # times a second, and rounding, repr and concatenating took more than half of a small
    # event's encoding (docs/performance.md, section 50).
    if "deadline" in event.__struct_fields__:
        head = b'{"version":%d,"ts":%.4f,' % (version, server_time)
    elif deadline is None:
        head = b'{"version":%d,"ts":%.4f,"deadline":null,' % (version, server_time)
    else:
        head = b'{"version":%d,"ts":%.4f,"deadline":%.4f,' % (version, server_time, deadline)
    return b"".join((head, memoryview(_ENCODER.encode(event))[1:]))


def events_schema(event_types: Iterable[type[Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """JSON Schema of the given message types: ``(schemas, components)``."""
    types = list(event_types)
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    return {t.__name__: s for t, s in zip(types, schemas, strict=True)}, components
