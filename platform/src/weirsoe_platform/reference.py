"""The machine-readable reference of every WebSocket message (AsyncAPI 3.0), from msgspec types."""

from __future__ import annotations

from typing import Any

from weirsoe_sdk import PLATFORM_EVENTS, Discovery, event_name, events_schema

from . import __version__
from .sessions import SessionVersion
from .transport._messages import CLIENT_MESSAGES, REPLY_MESSAGES

__all__ = ["build_asyncapi", "server_message_types"]


def server_message_types(discovery: Discovery) -> dict[str, list[type[Any]]]:
    """Server-to-client types by origin: ``platform`` and each cartridge slug."""
    out: dict[str, list[type[Any]]] = {"platform": [*PLATFORM_EVENTS, SessionVersion, *REPLY_MESSAGES]}
    for slug in sorted(discovery.cartridges):
        out[slug] = list(discovery.cartridges[slug].events)
    return out


def _tag(kind: type[Any]) -> str:
    return event_name(kind)


ENVELOPE = {
    "type": "object",
    "description": "Fields every session event carries besides its own.",
    "properties": {
        "version": {"type": "integer", "description": "session version after the change"},
        "ts": {"type": "number", "description": "server time, seconds since the epoch"},
        "deadline": {
            "anyOf": [{"type": "number"}, {"type": "null"}],
            "description": "the running deadline (server time), or null",
        },
    },
    "required": ["version", "ts", "deadline"],
}


def build_asyncapi(discovery: Discovery) -> dict[str, Any]:
    groups = server_message_types(discovery)
    every = [t for types in groups.values() for t in types] + list(CLIENT_MESSAGES)
    schemas, components = events_schema(every)
    messages: dict[str, Any] = {}
    send_refs: list[dict[str, str]] = []
    receive_refs: list[dict[str, str]] = []
    replies = set(REPLY_MESSAGES)
    for origin, types in groups.items():
        for kind in types:
            name = _tag(kind)
            payload: dict[str, Any] = schemas[kind.__name__]
            if kind not in replies:
                payload = {"allOf": [{"$ref": "#/components/schemas/Envelope"}, payload]}
            messages[name] = {
                "name": name,
                "title": name,
                "summary": (kind.__doc__ or name).strip().splitlines()[0],
                "payload": payload,
                "x-origin": origin,
            }
            send_refs.append({"$ref": f"#/channels/game/messages/{name}"})
    for kind in CLIENT_MESSAGES:
        name = _tag(kind)
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (kind.__doc__ or name).strip().splitlines()[0],
            "payload": schemas[kind.__name__],
            "x-origin": "client",
        }
        receive_refs.append({"$ref": f"#/channels/game/messages/{name}"})
    components["Envelope"] = ENVELOPE
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Weirsøe Party Protocol — game WebSocket",
            "version": __version__,
            "description": "Every message on /ws/game/{code}, in both directions.",
        },
        "channels": {
            "game": {
                "address": "/ws/game/{code}",
                "parameters": {"code": {"description": "the 4-letter room code"}},
                "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in messages},
            }
        },
        "operations": {
            "serverSends": {"action": "send", "channel": {"$ref": "#/channels/game"}, "messages": send_refs},
            "serverReceives": {
                "action": "receive",
                "channel": {"$ref": "#/channels/game"},
                "messages": receive_refs,
            },
        },
        "components": {"messages": messages, "schemas": components},
    }
