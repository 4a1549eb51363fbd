"""Settings: a msgspec Struct with defaults and bounds, validated with errors naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from ._errors import InvalidSettings

__all__ = ["load_settings", "settings_schema"]

T = TypeVar("T", bound=msgspec.Struct)

_AT = re.compile(r" - at `\$((?:\.|\[)[^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def _field_of(message: str) -> str:
    for pattern in (_UNKNOWN, _MISSING):
        found = pattern.search(message)
        if found:
            prefix = _AT.search(message)
            base = prefix.group(1).lstrip(".") + "." if prefix else ""
            return base + found.group(1)
    found = _AT.search(message)
    return found.group(1).lstrip(".") if found else ""


def load_settings(settings_type: type[T], data: Mapping[str, Any] | T | None) -> T:
    """Validate ``data`` into ``settings_type``; missing fields take their defaults.

    :raises InvalidSettings: with ``field`` naming the first offending field.
    """
    if isinstance(data, settings_type):
        data = msgspec.to_builtins(data)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InvalidSettings("settings must be a JSON object", field="")
    try:
        value = msgspec.convert(_integral(dict(data)), settings_type)
    except msgspec.ValidationError as exc:
        field = _field_of(str(exc))
        message = _AT.sub("", str(exc))
        raise InvalidSettings(f"{field or 'settings'}: {message}", field=field) from None
    return value


def _integral(data: Any) -> Any:
    """JSON Schema counts ``2.0`` as an integer, so settings accept it where an int is wanted:
    whole floats become ints (an int is still accepted wherever a float is)."""
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, dict):
        return {k: _integral(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_integral(v) for v in data]
    return data


def settings_schema(settings_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of a settings Struct, with its definitions inlined under ``$defs``."""
    schema: dict[str, Any] = msgspec.json.schema(settings_type)
    return schema
