"""JSON Schemas of each cartridge's typed contract (its actions and its per-role views), as
components of the OpenAPI and AsyncAPI documents. Names are prefixed with the cartridge slug
(``weirsoe_lies.Guess``), so two cartridges may use the same class names."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from weirsoe_sdk import Cartridge

__all__ = ["ROLES", "absorb", "action_tag", "action_variants", "view_schemas"]

ROLES = ("host", "player", "audience")
_PREFIX = "#/components/schemas/"


def absorb(schema: Any, prefix: str, components: dict[str, Any]) -> Any:
    """Move a msgspec schema's ``$defs`` into ``components`` under ``prefix`` and point its
    ``$ref`` s there. Returns the schema without ``$defs``."""
    schema = copy.deepcopy(schema)
    for name, sub in schema.pop("$defs", {}).items() if isinstance(schema, dict) else ():
        components[prefix + name] = _rewrite(sub, prefix)
    return _rewrite(schema, prefix)


def _rewrite(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, prefix) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = _PREFIX + prefix + ref.removeprefix("#/$defs/")
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix) for v in node]
    return node


def _components(types: list[Any], slug: str, components: dict[str, Any]) -> list[Any]:
    schemas, defs = msgspec.json.schema_components(types, ref_template=_PREFIX + slug + ".{name}")
    for name, sub in defs.items():
        components[f"{slug}.{name}"] = sub
    return list(schemas)


def action_variants(cartridge: Cartridge, components: dict[str, Any]) -> list[dict[str, Any]]:
    """One schema per action the cartridge accepts (the variants of its action union)."""
    (schema,) = _components([cartridge.action_type], cartridge.slug, components)
    variants = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [dict(v) for v in variants]


def action_tag(variant: dict[str, Any], components: dict[str, Any]) -> str:
    """The wire ``type`` of one action variant."""
    target = components[variant["$ref"].removeprefix(_PREFIX)] if "$ref" in variant else variant
    tag = target["properties"]["type"]
    return str(tag["enum"][0] if "enum" in tag else tag["const"])


def view_schemas(cartridge: Cartridge, components: dict[str, Any]) -> dict[str, Any] | None:
    """``{role: schema}`` of the cartridge's views (each or-null: no game yet), or None if the
    cartridge does not declare its view types."""
    views = cartridge.view_types
    if views is None:
        return None
    types = [views.for_role(role) for role in ROLES]
    schemas = _components(types, cartridge.slug, components)
    return {role: {"anyOf": [s, {"type": "null"}]} for role, s in zip(ROLES, schemas, strict=True)}
