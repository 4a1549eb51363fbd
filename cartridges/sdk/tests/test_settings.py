"""``load_settings``: defaults, and errors that name the offending field."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from weirsoe_sdk import InvalidSettings, load_settings, settings_schema


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    depth: Annotated[int, msgspec.Meta(ge=0)] = 1


class Demo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rounds: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    timer: Annotated[float, msgspec.Meta(ge=0.5, le=60)] = 10.0
    family_mode: bool = False
    inner: Inner = msgspec.field(default_factory=Inner)
    tags: list[str] = msgspec.field(default_factory=list)


class Required(msgspec.Struct):
    need: int


def test_missing_fields_take_their_defaults() -> None:
    value = load_settings(Demo, {"rounds": 5})
    assert value == Demo(rounds=5, timer=10.0, family_mode=False, inner=Inner(1), tags=[])
    assert load_settings(Demo, None) == Demo()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rounds": "three"}, "rounds"),
        ({"timer": "soon"}, "timer"),
        ({"family_mode": "yes"}, "family_mode"),
        ({"tags": [1]}, "tags[0]"),
    ],
    ids=["int", "float", "bool", "list-item"],
)
def test_wrong_type_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, data)
    assert info.value.field == field
    assert info.value.code == "invalid_settings"
    assert info.value.message.startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("data", "field"),
    [({"rounds": 0}, "rounds"), ({"rounds": 6}, "rounds"), ({"timer": 0.1}, "timer")],
)
def test_out_of_bounds_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, data)
    assert info.value.field == field
    assert "<=" in info.value.message or ">=" in info.value.message


def test_unknown_field_is_named() -> None:
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, {"rounds": 2, "colour": "red"})
    assert info.value.field == "colour"
    assert "unknown field" in info.value.message


def test_nested_fields_are_named_with_their_path() -> None:
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, {"inner": {"depth": -1}})
    assert info.value.field == "inner.depth"
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, {"inner": {"width": 2}})
    assert info.value.field == "inner.width"


def test_missing_required_field_is_named() -> None:
    with pytest.raises(InvalidSettings) as info:
        load_settings(Required, {})
    assert info.value.field == "need"


def test_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, [1, 2])  # type: ignore[arg-type]
    assert info.value.field == ""


def test_an_instance_is_validated_again() -> None:
    # Struct constructors do not check bounds; load_settings must.
    with pytest.raises(InvalidSettings) as info:
        load_settings(Demo, Demo(rounds=99))
    assert info.value.field == "rounds"


def test_invalid_settings_is_a_value_error_with_a_dict_form() -> None:
    with pytest.raises(ValueError, match="rounds") as info:
        load_settings(Demo, {"rounds": 9})
    assert isinstance(info.value, InvalidSettings)
    assert info.value.to_dict() == {
        "code": "invalid_settings",
        "message": info.value.message,
        "field": "rounds",
    }


def test_schema_carries_the_bounds() -> None:
    schema = settings_schema(Demo)
    demo = schema["$defs"]["Demo"]["properties"]
    assert demo["rounds"]["minimum"] == 1
    assert demo["rounds"]["maximum"] == 5
    assert demo["rounds"]["default"] == 3
