"""Converting actions: picking the Struct by its tag gives what msgspec.convert gives, errors
included."""

from __future__ import annotations

from typing import Annotated, Any, Union

import msgspec
import pytest

from weirsoe_sdk._convert import converter


class Say(msgspec.Struct, tag_field="type", tag="say", forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=5)]


class Pick(msgspec.Struct, tag_field="type", tag="pick", frozen=True):
    ids: list[str]
    many: bool = False


class Pass(msgspec.Struct, tag_field="type", tag="pass"):
    pass


class Other(msgspec.Struct, tag_field="kind", tag="other"):
    pass


def outcome(convert: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", convert(value)
    except (msgspec.ValidationError, TypeError) as exc:  # TypeError: a type msgspec refuses
        return type(exc).__name__, str(exc)


VALUES: list[Any] = [
    {"type": "say", "text": "hi"},
    {"type": "say", "text": "far too long"},
    {"type": "say", "text": 3},
    {"type": "say"},
    {"type": "say", "text": "hi", "extra": 1},
    {"type": "pick", "ids": ["a", "b"]},
    {"type": "pick", "ids": "a"},
    {"type": "pick", "ids": [], "many": "yes"},
    {"type": "pass"},
    {"type": "pass", "anything": 1},
    {"type": "nope"},
    {"type": 3},
    {"type": ["say"]},
    {"type": None},
    {"text": "hi"},
    {},
    [],
    "say",
    None,
    3,
]


@pytest.mark.parametrize(
    "target",
    [Say | Pick | Pass, Union[Say, Pick, Pass], Say, Pick | None, Say | Other],  # noqa: UP007
    ids=["union", "typing-union", "struct", "optional", "two-tag-fields"],
)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_converter_agrees_with_msgspec(target: Any, value: Any) -> None:
    assert outcome(converter(target), value) == outcome(lambda v: msgspec.convert(v, target), value)
