"""The served OpenAPI document, completed with what Litestar cannot infer.

Litestar builds the document from the route handlers (paths, statuses, the error responses each
route declares). This module then states what the server enforces on request bodies, using
msgspec's own JSON Schema of each body (unknown fields forbidden, required fields, bounds), and
what depends on the installed cartridges: the cartridge names, each cartridge's settings schema
and each cartridge's actions. The result is rendered by the ``/schema`` render plugins.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
)

from weirsoe_sdk import Cartridge, Discovery

from .._cartridge_schemas import absorb, action_variants
from ..accounts import ACCOUNT_REQUEST_BODIES
from ..errors import STATUS_MEANINGS
from ..transport import REQUEST_BODIES

__all__ = ["RENDER_PLUGINS", "complete_openapi"]

_PREFIX = "#/components/schemas/"
_NULL = {"type": "null"}


def _settings_ref(cartridge: Cartridge, components: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = absorb(cartridge.settings_schema(), f"{cartridge.slug}.", components)
    return schema


def _bodies(types: Iterable[type[msgspec.Struct]], components: dict[str, Any]) -> None:
    listed = list(types)
    schemas, defs = msgspec.json.schema_components(listed, ref_template=_PREFIX + "{name}")
    components.update(defs)
    for kind, schema in zip(listed, schemas, strict=True):
        name = schema["$ref"].removeprefix(_PREFIX) if "$ref" in schema else kind.__name__
        components[kind.__name__] = components[name]


def _cartridge_fields(components: dict[str, Any], cartridges: Sequence[Cartridge]) -> None:
    slugs = [c.slug for c in cartridges]
    settings = {c.slug: _settings_ref(c, components) for c in cartridges}
    any_settings = {"anyOf": [{"type": "object"}, _NULL]}
    per_cartridge: list[dict[str, Any]] = [
        {
            "properties": {
                "cartridge": {"const": slug},
                "settings": {"anyOf": [settings[slug], _NULL]},
            },
            "required": ["cartridge"],
        }
        for slug in slugs
    ]
    create = components["CreateSession"]
    create["properties"]["cartridge"] = {"anyOf": [{"enum": slugs}, _NULL]}
    create["properties"]["settings"] = any_settings
    create["anyOf"] = [
        {"properties": {"preset_id": {"type": "integer"}}, "required": ["preset_id"]},
        *[
            {**branch, "properties": {**branch["properties"], "preset_id": _NULL}}
            for branch in per_cartridge
        ],
    ]
    create["description"] = (
        "Give a `cartridge` (with optional `settings` of its schema), or a signed-in host's "
        "`preset_id` (then `settings` override single fields of the preset)."
    )
    preset = components["PresetIn"]
    preset["properties"]["cartridge"] = {"enum": slugs}
    preset["properties"]["settings"] = any_settings
    preset["anyOf"] = per_cartridge
    control = components["ControlRequest"]
    control["properties"]["settings"] = {
        "anyOf": [*settings.values(), _NULL],
        "description": "only with `again`: settings of the room's cartridge to change",
    }
    control["anyOf"] = [
        {"properties": {"action": {"const": "again"}}},
        {"properties": {"settings": _NULL}},
    ]
    change = components["PresetChange"]
    change["properties"]["cartridge"] = {"anyOf": [{"enum": slugs}, _NULL]}


def _actions(components: dict[str, Any], cartridges: Sequence[Cartridge]) -> None:
    variants = [v for c in cartridges for v in action_variants(c, components)]
    post = components["ActionPost"]
    post["properties"]["action"] = {
        "anyOf": variants or [{"type": "object"}],
        "description": "one of the room's cartridge actions (see /schema/asyncapi.json)",
    }


def _responses(responses: dict[str, Any]) -> None:
    """A 204 has no body (Litestar declares JSON null); every error has the one error body
    (Litestar declares its own shape for the 400 it adds to routes with parameters)."""
    no_content = responses.get("204")
    if no_content is not None:
        no_content.pop("content", None)
    for status, response in responses.items():
        if int(status) >= 400:
            response["description"] = STATUS_MEANINGS.get(int(status), response["description"])
            response["content"] = {"application/json": {"schema": {"$ref": _PREFIX + "ErrorBody"}}}


def complete_openapi(doc: dict[str, Any], discovery: Discovery) -> dict[str, Any]:
    """A completed copy of Litestar's document (see the module docstring)."""
    doc = copy.deepcopy(doc)
    components: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    _bodies([*REQUEST_BODIES, *ACCOUNT_REQUEST_BODIES], components)
    cartridges = [discovery.cartridges[s] for s in sorted(discovery.cartridges)]
    _cartridge_fields(components, cartridges)
    _actions(components, cartridges)
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                _responses(operation["responses"])
    return doc


def _completed(request: Request[Any, Any, Any], schema: dict[str, Any]) -> dict[str, Any]:
    state = request.app.state
    cached = state.get("completed_openapi")
    if cached is None:
        cached = complete_openapi(schema, state.service.cartridges)
        state.completed_openapi = cached
    result: dict[str, Any] = cached
    return result


class _Completed(OpenAPIRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, _completed(request, openapi_schema))  # type: ignore[safe-super]


class CompletedJson(_Completed, JsonRenderPlugin):
    """``/schema/openapi.json``."""


class CompletedSwagger(_Completed, SwaggerRenderPlugin):
    """``/schema/swagger`` (also ``/schema``)."""


class CompletedRedoc(_Completed, RedocRenderPlugin):
    """``/schema/redoc``."""


RENDER_PLUGINS: list[OpenAPIRenderPlugin] = [
    CompletedSwagger(path=["/", "/swagger"]),
    CompletedJson(),
    CompletedRedoc(),
]
