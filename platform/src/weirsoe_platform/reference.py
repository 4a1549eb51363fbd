"""The reference of every WebSocket message: machine-readable (AsyncAPI 3.0, built from the
msgspec types) and human-readable (Markdown, rendered from the AsyncAPI document).

``python -m weirsoe_platform.reference --write docs/events.md`` regenerates the human reference;
``--check docs/events.md`` exits 1 if the file is stale.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from weirsoe_sdk import (
    PLATFORM_EVENTS,
    Cartridge,
    Discovery,
    SessionSnapshot,
    discover_cartridges,
    event_name,
    events_schema,
)

from . import __version__
from ._cartridge_schemas import ROLES, action_tag, action_variants, view_schemas
from ._doc_cli import generated_page_main
from .audience import AUDIENCE_EVENTS, AudienceProgress
from .sessions import PLATFORM_ONLY_EVENTS
from .transport._messages import CLIENT_MESSAGES, REPLY_MESSAGES

__all__ = [
    "DEFAULT_PATH",
    "ENVELOPE",
    "action_message_name",
    "build_asyncapi",
    "cartridge_links",
    "main",
    "render_events_markdown",
    "server_message_types",
]

DEFAULT_PATH = "docs/events.md"
# With the test-only cartridge too: its events are the reference's second, generic example.
REGENERATE = (
    f"WEIRSOE_TEST_CARTRIDGES=1 uv run python -m weirsoe_platform.reference --write {DEFAULT_PATH}"
)


def server_message_types(discovery: Discovery) -> dict[str, list[type[Any]]]:
    """Server-to-client types by origin: ``platform`` and each cartridge slug."""
    out: dict[str, list[type[Any]]] = {
        "platform": [
            *PLATFORM_EVENTS,
            *PLATFORM_ONLY_EVENTS,
            *AUDIENCE_EVENTS,
            AudienceProgress,
            *REPLY_MESSAGES,
        ]
    }
    for slug in sorted(discovery.cartridges):
        out[slug] = list(discovery.cartridges[slug].events)
    return out


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


def _tag(kind: type[Any]) -> str:
    return event_name(kind)


def _message(kind: type[Any], payload: dict[str, Any], origin: str) -> dict[str, Any]:
    name = _tag(kind)
    doc = inspect.cleandoc(kind.__doc__) if kind.__doc__ else ""
    first = " ".join(doc.split("\n\n")[0].split())
    message = {"name": name, "title": name, "summary": first or name, "payload": payload}
    if doc:
        message["description"] = doc
    message["x-origin"] = origin
    return message


def _cartridge_contract(
    discovery: Discovery, components: dict[str, Any], messages: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each cartridge's actions (as client messages) and views (as schemas). Returns every
    action variant, and the names of the action messages."""
    variants: list[dict[str, Any]] = []
    names: list[str] = []
    view_branches: list[dict[str, Any]] = []
    view_refs: list[dict[str, Any]] = []
    for slug in sorted(discovery.cartridges):
        cartridge = discovery.cartridges[slug]
        for variant in action_variants(cartridge, components):
            variants.append(variant)
            tag = action_tag(variant, components)
            name = action_message_name(slug, tag)
            payload = {
                "allOf": [
                    {"$ref": "#/components/schemas/ActionRequest"},
                    {"properties": {"action": variant}},
                ]
            }
            target = components[variant["$ref"].rsplit("/", 1)[-1]]
            summary = target.get("description", "").split("\n\n")[0] or f"the {tag} action"
            messages[name] = {
                "name": name,
                "title": f"{slug}: {tag}",
                "summary": " ".join(summary.split()),
                "payload": payload,
                "x-origin": slug,
                "x-kind": "action",
            }
            names.append(name)
        views = view_schemas(cartridge, components)
        for role in ROLES:
            view = views[role] if views is not None else {}
            view_branches.append(
                {
                    "properties": {
                        "cartridge": {"const": slug},
                        "role": {"const": role},
                        "view": view,
                    }
                }
            )
            found = views[role]["anyOf"] if views is not None else [{}]  # undeclared: any
            view_refs += [v for v in found if v not in view_refs]
    snapshot = components["SessionSnapshot"]
    snapshot["properties"]["view"] = {
        "anyOf": view_refs or [{}],
        "description": "the room cartridge's view for this role (null before the game starts)",
    }
    snap_message = messages[event_name(SessionSnapshot)]
    snap_message["payload"]["allOf"].insert(1, {"anyOf": view_branches or [{}]})
    return variants, names


def action_message_name(slug: str, tag: str) -> str:
    """The AsyncAPI message name of one cartridge action: ``action.<slug>.<type>``."""
    return f"action.{slug}.{tag}"


def build_asyncapi(discovery: Discovery) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every message on ``/ws/game/{code}``, in both directions."""
    groups = server_message_types(discovery)
    every = [t for types in groups.values() for t in types] + list(CLIENT_MESSAGES)
    schemas, components = events_schema(every)
    messages: dict[str, Any] = {}
    send_refs: list[dict[str, str]] = []
    receive_refs: list[dict[str, str]] = []
    replies = {*REPLY_MESSAGES, AudienceProgress}  # no envelope: not a session transition
    for origin, types in groups.items():
        for kind in types:
            payload: dict[str, Any] = schemas[kind.__name__]
            if kind not in replies:
                payload = {"allOf": [{"$ref": "#/components/schemas/Envelope"}, payload]}
            messages[_tag(kind)] = _message(kind, payload, origin)
            send_refs.append({"$ref": f"#/channels/game/messages/{_tag(kind)}"})
    for kind in CLIENT_MESSAGES:
        messages[_tag(kind)] = _message(kind, schemas[kind.__name__], "client")
        receive_refs.append({"$ref": f"#/channels/game/messages/{_tag(kind)}"})
    variants, actions = _cartridge_contract(discovery, components, messages)
    messages["action"]["payload"] = {
        "allOf": [
            {"$ref": "#/components/schemas/ActionRequest"},
            {"properties": {"action": {"anyOf": variants or [{"type": "object"}]}}},
        ]
    }
    receive_refs += [{"$ref": f"#/channels/game/messages/{name}"} for name in actions]
    components["Envelope"] = ENVELOPE
    channel = {"$ref": "#/channels/game"}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Weirsøe Party Protocol — game WebSocket",
            "version": __version__,
            "description": "Every message on /ws/game/{code}, in both directions, with each "
            "installed cartridge's actions (messages `action.<cartridge>.<type>`) and views "
            "(schemas `<cartridge>.<Type>`, in `session.snapshot`).",
        },
        "channels": {
            "game": {
                "address": "/ws/game/{code}",
                "parameters": {"code": {"description": "the 4-letter room code"}},
                "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in messages},
            }
        },
        "operations": {
            "serverSends": {"action": "send", "channel": channel, "messages": send_refs},
            "serverReceives": {"action": "receive", "channel": channel, "messages": receive_refs},
        },
        "components": {"messages": messages, "schemas": components},
    }


def cartridge_links(cartridge: Cartridge, doc: dict[str, Any]) -> dict[str, Any]:
    """Where a cartridge's part of the AsyncAPI document is: its actions, events and views."""
    slug = cartridge.slug
    messages = doc["components"]["messages"]
    own = [n for n, m in messages.items() if m["x-origin"] == slug]
    views = cartridge.view_types
    return {
        "asyncapi": "/schema/asyncapi.json",
        "actions": [f"#/components/messages/{n}" for n in own if n.startswith("action.")],
        "events": [f"#/components/messages/{n}" for n in own if not n.startswith("action.")],
        "views": {
            role: (
                None
                if views is None or views.for_role(role) is None
                else f"#/components/schemas/{slug}.{views.for_role(role).__name__}"
            )
            for role in ROLES
        },
    }


def render_events_markdown(discovery: Discovery) -> str:
    """The human reference (``docs/events.md``): deterministic, byte for byte."""
    from ._reference_md import collect_examples, render

    return render(build_asyncapi(discovery), discovery, collect_examples(discovery))


def main(argv: Sequence[str] | None = None) -> int:
    return generated_page_main(
        argv,
        prog="python -m weirsoe_platform.reference",
        description="Render the WebSocket events reference (Markdown) from the AsyncAPI document.",
        render=lambda: render_events_markdown(discover_cartridges()),
        default_path=DEFAULT_PATH,
        regenerate=REGENERATE,
    )


if __name__ == "__main__":
    raise SystemExit(main())
