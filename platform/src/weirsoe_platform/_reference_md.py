"""Render ``docs/events.md``, the human reference of the game WebSocket, from the AsyncAPI document.

Examples are real messages recorded from seeded harness games (fake clock, seeded bots), or,
for messages no harness game produces, fixed ones built from the real types with constant
values. Either way the output is the same byte for byte on every run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from weirsoe_sdk import (
    Cartridge,
    Discovery,
    PlayerLeft,
    PlayerReconnected,
    Viewer,
    WeirsoeError,
    encode_message,
)
from weirsoe_sdk.testing import FakeClock, GameRecord, Harness

from ._reference_contract import action_examples, action_section, views_part
from .audience import AudienceProgress, SessionAudience, TallyState
from .error_table import CLOSE_MEANINGS
from .sessions import SessionKicked, SessionLocked, SessionVersion
from .transport import close_codes
from .transport._messages import (
    Ack,
    ActionRequest,
    ErrorReply,
    Ping,
    Pong,
    SyncRequest,
    VoteRequest,
)

__all__ = ["Examples", "collect_examples", "render"]

SEED = 1
PLAYERS = 4
CODE = "WXYZ"
NOW = FakeClock().now

ROLES = ("host", "audience", "player")
WHO = {
    "ping": "Sent by: host, audience, player.",
    "sync": "Sent by: host, audience, player.",
    "action": "Sent by: player.",
    "vote": "Sent by: audience (joined, with a token).",
    "audience.tally": "Received by: host, audience, player.",
    "session.audience": "Received by: host, audience, player.",
    "session.snapshot": "Received by: the socket that connected or sent `sync`.",
    "session.version": "Received by: host, audience, player.",
    "pong": "Received by: the socket that sent `ping`.",
    "ack": "Received by: the socket that sent the `action`.",
    "error": "Received by: the socket whose message failed.",
    "session.locked": "Received by: host, audience, player.",
    "session.kicked": "Received by: the kicked player only (its sockets then close with 4408).",
}


# -- examples ---------------------------------------------------------------------------------
@dataclass
class Examples:
    """One example text per message type, and which roles received each type."""

    texts: dict[str, str] = field(default_factory=dict)
    seen_by: dict[str, set[str]] = field(default_factory=dict)

    def add_record(self, record: GameRecord) -> None:
        """Keep the earliest message of each type not seen in an earlier game."""
        order = ["host", "audience", *record.players]
        first: dict[str, tuple[int, int, str]] = {}
        for rank, who in enumerate(order):
            role = who if who in ("host", "audience") else "player"
            for msg in record.messages.get(who, []):
                self.seen_by.setdefault(msg.type, set()).add(role)
                key = (msg.version, rank, msg.text)
                first[msg.type] = min(first.get(msg.type, key), key)
        for kind, (_, _, text) in first.items():
            self.texts.setdefault(kind, text)

    def add(self, kind: str, data: bytes) -> None:
        self.texts.setdefault(kind, data.decode())


def _player_count(cartridge: Cartridge) -> int:
    return max(cartridge.info.min_players, min(PLAYERS, cartridge.info.max_players))


def _harness(cartridge: Cartridge) -> Harness:
    return Harness(cartridge, players=_player_count(cartridge), seed=SEED)


def _scripted(cartridge: Cartridge, examples: Examples) -> None:
    """Join, play, drop and bring back a player, pause, resume and exit."""
    h = _harness(cartridge)
    h.join_all()
    pid = h.player_ids[-1]
    steps: list[Callable[[], object]] = [
        lambda: h.control("play"),
        lambda: _first_moves(h, examples),
        lambda: h.send(PlayerLeft(player_id=pid)),
        lambda: h.send(PlayerReconnected(player_id=pid)),
        lambda: h.control("pause"),
        lambda: h.control("resume"),
        lambda: h.control("exit"),
    ]
    for step in steps:
        try:
            step()
        except WeirsoeError:
            continue
    examples.add_record(h.record)


def _first_moves(h: Harness, examples: Examples) -> None:
    """The first player's snapshot and the action its bot would send, once the game runs."""
    viewer = Viewer("player", h.player_ids[0])
    table = h.table
    snap = h.runtime.snapshot(table, viewer, h.clock.now, CODE)
    deadline = table.deadline.at if table.deadline else None
    examples.add(
        "session.snapshot",
        encode_message(snap, version=table.version, server_time=h.clock.now, deadline=deadline),
    )
    bot = h.cartridge.bot
    if bot is not None:
        action = bot.act(h.view(viewer), viewer.player_id or "", random.Random(SEED), h.canary)
        if action is not None:
            request = ActionRequest(id=f"{viewer.player_id}-1", action=dict(action))
            examples.add("action", msgspec.json.encode(request))


def _fixed(examples: Examples) -> None:
    """Examples for messages that no harness game produces."""
    enc = msgspec.json.encode
    examples.add("ping", enc(Ping()))
    examples.add("sync", enc(SyncRequest()))
    examples.add("action", enc(ActionRequest(id="p1-1", action={"type": "example"})))
    examples.add("vote", enc(VoteRequest(id="au1-1", tally="favourite", choice="a1")))
    examples.add("pong", enc(Pong(ts=NOW)))
    examples.add("ack", enc(Ack(id="p1-1", version=12)))
    examples.add(
        "error",
        enc(ErrorReply(code="invalid_action", message="you already did that", id="p1-1")),
    )
    examples.add(
        "session.version",
        encode_message(SessionVersion(), version=12, server_time=NOW, deadline=NOW + 45),
    )
    examples.add(
        "session.locked",
        encode_message(SessionLocked(locked=True), version=5, server_time=NOW, deadline=None),
    )
    examples.add("vote", enc(VoteRequest(id="v-1", tally="truth", choice="a1b2c3d4")))
    examples.add(
        "session.audience",
        encode_message(SessionAudience(enabled=False), version=7, server_time=NOW, deadline=None),
    )
    progress = AudienceProgress(
        ts=NOW,
        members=1200,
        watching=1130,
        tallies=[
            TallyState(name="truth", id="truth@31", votes=870),
            TallyState(name="react", id="react@31", votes=14, counts={"a1b2c3d4|😂": 14}),
        ],
    )
    examples.add("audience.tally", enc(progress))
    examples.add(
        "session.kicked",
        encode_message(SessionKicked(player_id="p3"), version=6, server_time=NOW, deadline=None),
    )


def collect_examples(discovery: Discovery) -> Examples:
    """Examples from seeded games of every cartridge (sorted by slug), then fixed ones."""
    examples = Examples()
    for slug in sorted(discovery.cartridges):
        cartridge = discovery.cartridges[slug]
        if cartridge.bot is not None:
            h = _harness(cartridge)
            h.play()
            h.control("again")  # "Same players": session.new_game, back in the lobby
            examples.add_record(h.record)
        for name, data in action_examples(cartridge, _player_count(cartridge), SEED).items():
            examples.add(name, data)
        _scripted(cartridge, examples)
    _fixed(examples)
    return examples


# -- JSON schema to Markdown ------------------------------------------------------------------
def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _constraints(schema: dict[str, Any]) -> str:
    marks = {
        "minLength": "min length {}",
        "maxLength": "max length {}",
        "minimum": "≥ {}",
        "exclusiveMinimum": "> {}",
        "maximum": "≤ {}",
        "exclusiveMaximum": "< {}",
        "minItems": "min {} items",
        "maxItems": "max {} items",
    }
    found = [text.format(schema[key]) for key, text in marks.items() if key in schema]
    return f" ({', '.join(found)})" if found else ""


def type_of(schema: dict[str, Any]) -> str:
    """A short human name for a JSON schema: ``string``, ``array of PlayerInfo``, …"""
    name = _ref_name(schema)
    if name is not None:
        return name
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "anyOf" in schema:
        return " | ".join(type_of(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}{_constraints(schema)}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of string to {type_of(schema['additionalProperties'])}"
    if isinstance(kind, str):
        return kind + _constraints(schema)
    return "any"


def _nested(schema: dict[str, Any]) -> tuple[str, str] | None:
    """The named object a field holds (directly, in an array, a map or or-null), and its suffix."""
    refs = [s for s in schema.get("anyOf", []) if "$ref" in s]
    for branch, suffix in (
        (schema, ""),
        (schema.get("items", {}), "[]"),
        (schema.get("additionalProperties", {}), "{}"),
        *((s, "") for s in (refs if len(refs) == 1 else [])),  # one named type or null
    ):
        name = _ref_name(branch) if isinstance(branch, dict) else None
        if name is not None:
            return name, suffix
    return None


def field_rows(
    schema: dict[str, Any], schemas: dict[str, Any], prefix: str = "", seen: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """``(field, type, required)`` rows of an object schema, nested objects flattened."""
    name = _ref_name(schema)
    obj = schemas[name] if name is not None else schema
    required = set(obj.get("required", []))
    rows: list[tuple[str, str, str]] = []
    for prop, sub in obj.get("properties", {}).items():
        path = prefix + prop
        if prop in required:
            needed = "yes"
        elif "default" in sub:
            needed = f"no (default `{json.dumps(sub['default'], ensure_ascii=False)}`)"
        else:
            needed = "no"
        rows.append((path, type_of(sub), needed))
        nested = _nested(sub)
        if nested is not None and nested[0] not in seen:
            ref = {"$ref": f"#/components/schemas/{nested[0]}"}
            rows += field_rows(ref, schemas, f"{path}{nested[1]}.", (*seen, nested[0]))
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]


# -- the document -----------------------------------------------------------------------------
def _intro(doc: dict[str, Any], messages: dict[str, Any]) -> list[str]:
    envelope = doc["components"]["schemas"]["Envelope"]
    env_rows = [
        (f"`{n}`", f"`{type_of(s)}`", s.get("description", ""))
        for n, s in envelope["properties"].items()
    ]
    codes = sorted((int(n.split("_")[1]), n) for n in close_codes)
    code_rows = [
        (str(c), f"`{n}`", CLOSE_MEANINGS.get(c, n.split("_", 2)[2].replace("_", " ").lower()))
        for c, n in codes
    ]
    client_rows = [
        (f"[`{n}`](#{_anchor(n)})", m["summary"])
        for n, m in messages.items()
        if m["x-origin"] == "client"
    ]
    return [
        "# WebSocket events reference",
        "",
        "<!-- Generated from the AsyncAPI document by weirsoe_platform.reference; do not edit.",
        "     Regenerate: uv run python -m weirsoe_platform.reference --write docs/events.md -->",
        "",
        f"Every message on `{doc['channels']['game']['address']}`, in both directions, for "
        f"protocol version {doc['info']['version']}. The machine-readable source of this page is "
        "the AsyncAPI 3.0 document served at `/schema/asyncapi.json`; the REST API is at "
        "`/schema/openapi.json`.",
        "",
        "## Connecting",
        "",
        "Open `/ws/game/{code}?role=host|player|audience&token=…`. The audience may watch without "
        "a token; to vote, a member joins with `POST /api/sessions/{code}/audience` (no name, at "
        "any time) and connects with its token. "
        "The server accepts the socket, checks the token, then sends a `session.snapshot` of the "
        "viewer's own view, followed by live events. Frames are JSON text; a client frame over "
        "64 KiB closes the socket. A browser's `Origin` must be the server's own origin, its "
        "public URL or one listed in `WEIRSOE_ALLOWED_ORIGINS` (else close 1008); a "
        "connection without an `Origin` header (a non-browser client) is accepted. Every "
        "error code and close code is listed in [errors.md](errors.md).",
        "",
        "## The audience",
        "",
        "Audience sockets receive the room's public events and the audience's own events, never "
        "a player's. A cartridge declares its crowd votes (tallies, see the cartridge author's "
        "reference); while one is open, the snapshot's `audience.tallies` lists it with its "
        "choices, and a member sends `vote`. One vote per member per tally (a re-vote replaces "
        "it; a capped tally such as reactions counts each vote up to its cap). Votes never take "
        "the room's state path one by one: the platform counts them and the driver receives the "
        "final counts once, when the phase ends. `audience.tally` reports progress to everyone "
        "at most twice a second, and follows every change of the members or of the sockets "
        "watching within about half a second. A snapshot's `audience.members` and "
        "`audience.watching` are those of the last `audience.tally` before it or newer, give or "
        "take half a second (at most 10 s old if a server process died before announcing a "
        "change); its `audience.enabled` is always that of the snapshot's own version. A "
        "refused vote gets an `error` whose code is one of "
        "`not_audience`, `tally_closed`, `unknown_choice`, `vote_cap`, `audience_kicked`, "
        "`audience_off`; it changes no count.",
        "",
        "## The envelope",
        "",
        "Every session event is one flat JSON object: its own fields, its `type`, and these "
        "envelope fields. The direct replies `pong`, `ack` and `error`, and the audience's "
        "`audience.tally` progress, carry no envelope.",
        "",
        *_table(("field", "type", "meaning"), env_rows),
        "",
        "A few events have a field of their own named `deadline`; it holds the same running "
        "deadline, and the envelope does not repeat the key.",
        "",
        "## Audiences",
        "",
        "Each event goes to an audience: everyone in the room, the host, some players, or the "
        "audience. Each socket listens on the room channel plus its role's private channel "
        "(`room:{code}` plus `host:{code}`, `player:{code}:{player_id}` or `audience:{code}`), "
        "so a player only ever receives its own private events. Each message below lists the "
        "roles that received it in the recorded example games.",
        "",
        "## Versions, gaps and snapshots",
        "",
        "Each state change increments the session `version`, and every event it causes carries "
        "the new version (one change may send several events with the same version). When a "
        "change sends nothing to the whole room, the room still gets a `session.version`, so "
        "every client sees every version. A client that sees a version more than one above the "
        "last it saw has missed something: it sends `sync` and redraws from the "
        "`session.snapshot` it gets back. Messages with an older version are stale. A socket "
        "gets no event of its first snapshot's version or older after that snapshot (the "
        "snapshot already shows those changes); a `sync`'s snapshot may be followed by such "
        "stale ones. On reconnect, the first message is again a full snapshot.",
        "",
        "## Close codes",
        "",
        *_table(("code", "name", "meaning"), code_rows),
        "",
        "## Client messages",
        "",
        "Clients send only these; anything else gets an `error` (`unknown_type`, `bad_message` "
        "or `bad_json`).",
        "",
        *_table(("type", "summary"), client_rows),
        "",
    ]


def _anchor(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")


def _example(text: str) -> list[str]:
    pretty = json.dumps(msgspec.json.decode(text), indent=2, ensure_ascii=False)
    return ["**Example payload:**", "", "```json", pretty, "```", ""]


def _section(
    name: str, message: dict[str, Any], schemas: dict[str, Any], examples: Examples
) -> list[str]:
    if message.get("x-kind") == "action":
        return action_section(name, message, schemas, examples, field_rows, _table, _example)
    payload = message["payload"]
    enveloped = "allOf" in payload
    own = payload["allOf"][-1] if enveloped else payload
    lines = [f"### {name}", ""]
    if "description" in message:
        lines += [message["description"], ""]
    facts = ["Envelope: yes." if enveloped else "Envelope: no."]
    if name in examples.seen_by:
        roles = [r for r in ROLES if r in examples.seen_by[name]]
        facts.append(f"Received by: {', '.join(roles)}.")
    elif name in WHO:
        facts.append(WHO[name])
    lines += [" ".join(facts), ""]
    rows = [(f"`{f}`", f"`{t}`", r) for f, t, r in field_rows(own, schemas)]
    lines += [*_table(("field", "type", "required"), rows), ""]
    if name in examples.texts:
        lines += _example(examples.texts[name])
    return lines


def _groups(discovery: Discovery) -> list[tuple[str, str, str]]:
    """``(origin, heading, blurb)`` in order: client, platform, then each cartridge."""
    groups = [
        ("client", "Client to server", "Sent by host, player and audience sockets."),
        ("platform", "Platform to client", "Sent by the platform for every cartridge."),
    ]
    for slug in sorted(discovery.cartridges):
        info = discovery.cartridges[slug].info
        blurb = f"Sent by the `{slug}` cartridge (version {info.version})."
        groups.append((slug, f"Cartridge: {info.title}", blurb))
    return groups


def render(doc: dict[str, Any], discovery: Discovery, examples: Examples) -> str:
    """The whole Markdown page."""
    messages: dict[str, Any] = doc["components"]["messages"]
    schemas: dict[str, Any] = doc["components"]["schemas"]
    lines = _intro(doc, messages)
    for origin, heading, blurb in _groups(discovery):
        lines += [f"## {heading}", "", blurb, ""]
        for name, message in messages.items():
            if message["x-origin"] == origin:
                lines += _section(name, message, schemas, examples)
        if origin in discovery.cartridges:
            lines += views_part(discovery.cartridges[origin], schemas, field_rows, _table)
    return "\n".join(lines).rstrip("\n") + "\n"
