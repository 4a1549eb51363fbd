"""The cartridge-contract parts of ``docs/events.md``: each cartridge's actions (client
messages ``action.<cartridge>.<type>``) and its per-role views, with examples from seeded games."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from weirsoe_sdk import Cartridge

from ._cartridge_schemas import ROLES
from .reference import action_message_name
from .transport._messages import ActionRequest

__all__ = ["action_examples", "action_section", "example_of", "views_part"]

Rows = Callable[..., list[tuple[str, str, str]]]
Table = Callable[..., list[str]]


class _Recorder:
    """Wraps a cartridge's bot and keeps the first action of each type it sends."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.seen: dict[str, dict[str, Any]] = {}
        phases = getattr(bot, "phases", None)
        if phases is not None:
            self.phases = phases

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        action: Mapping[str, Any] | None = self.bot.act(view, me, rng, canary)
        if action is not None and isinstance(action.get("type"), str):
            self.seen.setdefault(action["type"], dict(action))
        return action


def action_examples(cartridge: Cartridge, players: int, seed: int) -> dict[str, bytes]:
    """``{message name: example frame}`` for the actions the cartridge's bot sends in a seeded
    game (actions the bot never sends get no example here)."""
    from weirsoe_sdk.testing import Harness

    if cartridge.bot is None:
        return {}
    recorder = _Recorder(cartridge.bot)
    Harness(cartridge, players=players, seed=seed, bot=recorder, check_leaks=False).play()
    out: dict[str, bytes] = {}
    for tag, action in sorted(recorder.seen.items()):
        request = ActionRequest(id="p1-7", action=action)
        out[action_message_name(cartridge.slug, tag)] = msgspec.json.encode(request)
    return out


def example_of(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """A constant example value for a schema (for actions no bot sends)."""
    if "$ref" in schema:
        return example_of(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return example_of(schema["anyOf"][0], schemas)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example_of(v, schemas) for k, v in props.items()}
    return {"string": "a1", "integer": 1, "number": 1.0, "boolean": True, "array": []}.get(
        str(kind)
    )


def action_rows_source(message: dict[str, Any]) -> dict[str, Any]:
    """The action variant schema of an ``action.<cartridge>.<type>`` message."""
    variant: dict[str, Any] = message["payload"]["allOf"][1]["properties"]["action"]
    return variant


def action_section(
    name: str,
    message: dict[str, Any],
    schemas: dict[str, Any],
    examples: Any,
    rows: Rows,
    table: Table,
    example: Callable[[str], list[str]],
) -> list[str]:
    """The section of one ``action.<cartridge>.<type>`` message."""
    variant = action_rows_source(message)
    target = schemas[variant["$ref"].rsplit("/", 1)[-1]]
    lines = [f"### {name}", ""]
    if target.get("description"):
        lines += [target["description"], ""]
    lines += ["Envelope: no. Sent by: player, as an `action` message.", ""]
    found = [
        ("`type`", '`"action"`', "yes"),
        ("`id`", "`string (min length 1, max length 64)`", "yes"),
    ]
    found += [(f"`action.{f}`", f"`{t}`", r) for f, t, r in rows(variant, schemas)]
    lines += [*table(("field", "type", "required"), found), ""]
    if name not in examples.texts:
        request = {"type": "action", "id": "p1-7", "action": example_of(variant, schemas)}
        examples.add(name, msgspec.json.encode(request))
    return lines + example(examples.texts[name])


def views_part(
    cartridge: Cartridge, schemas: dict[str, Any], rows: Rows, table: Table
) -> list[str]:
    """The cartridge's views: which type each role gets, and each type's fields."""
    views = cartridge.view_types
    lines = [f"#### Views of {cartridge.info.title}", ""]
    if views is None:
        return [*lines, "Not declared: the `view` in snapshots is any JSON value.", ""]
    lines += [
        "The `view` in `session.snapshot` (null before the game starts), by role. Fields "
        "marked optional appear only in some phases.",
        "",
    ]
    named = {role: views.for_role(role) for role in ROLES}
    lines += table(
        ("role", "view type"),
        [
            (role, "nothing (null)" if kind is None else f"`{cartridge.slug}.{kind.__name__}`")
            for role, kind in named.items()
        ],
    )
    lines.append("")
    for kind in dict.fromkeys(k for k in named.values() if k is not None):
        ref = {"$ref": f"#/components/schemas/{cartridge.slug}.{kind.__name__}"}
        lines += [f"**`{cartridge.slug}.{kind.__name__}`**", ""]
        lines += table(
            ("field", "type", "required"),
            [(f"`{f}`", f"`{t}`", r) for f, t, r in rows(ref, schemas)],
        )
        lines.append("")
    return lines
