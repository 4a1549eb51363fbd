"""The core pack and the pack loader: at least 200 original prompts, categories, the family
flag, and errors that name the entry and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from weirsoe_quips.content import builtin_packs, load_pack, load_packs
from weirsoe_sdk import ContentError, normalize_answer


def test_the_core_pack_has_at_least_200_distinct_prompts() -> None:
    (core,) = [p for p in builtin_packs() if p.slug == "core"]
    assert len(core.prompts) >= 200
    assert len({normalize_answer(p.prompt) for p in core.prompts}) == len(core.prompts)
    assert len({p.id for p in core.prompts}) == len(core.prompts)
    assert len({p.category for p in core.prompts}) >= 20
    assert all(len(p.house_answers) >= 3 for p in core.prompts)
    family = [p for p in core.prompts if p.family_safe]
    assert 17 <= len(family) < len(core.prompts)


def test_the_core_pack_is_what_its_script_builds() -> None:
    import importlib.util

    script = Path(__file__).parents[1] / "scripts" / "build_core_pack.py"
    spec = importlib.util.spec_from_file_location("build_core_pack", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (core,) = [p for p in builtin_packs() if p.slug == "core"]
    assert [p["prompt"] for p in module.build()["prompts"]] == [p.prompt for p in core.prompts]


def good() -> dict[str, object]:
    return {
        "slug": "mine",
        "title": "Mine",
        "version": 1,
        "prompts": [
            {
                "id": "m1",
                "prompt": "A bad name for a cat",
                "house_answers": ["apple", "pear", "plum"],
                "category": "Pets",
                "family_safe": True,
            }
        ],
    }


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        (lambda d: d["prompts"][0].pop("category"), ["entry 0", "id m1", "category"]),
        (
            lambda d: d["prompts"][0].update(house_answers=["apple"]),
            ["house_answers", "at least 3"],
        ),
        (lambda d: d["prompts"][0].update(house_answers=["Apple", "apple!", "pear"]), ["twice"]),
        (lambda d: d["prompts"].append(dict(d["prompts"][0])), ["duplicate id"]),
        (
            lambda d: d["prompts"].append({**d["prompts"][0], "id": "m2"}),
            ["the same prompt is already in the pack"],
        ),
        (lambda d: d["prompts"][0].update(truth="x"), ["unknown field", "truth"]),
        (lambda d: d.update(slug="Bad Slug"), ["slug"]),
    ],
)
def test_bad_packs_name_the_entry_and_field(change: object, parts: list[str]) -> None:
    data = good()
    change(data)  # type: ignore[operator]
    with pytest.raises(ContentError) as info:
        load_pack(json.dumps(data).encode(), "mine.json")
    assert info.value.message.startswith("mine.json")
    for part in parts:
        assert part in info.value.message


def test_not_json_and_missing_folders() -> None:
    with pytest.raises(ContentError, match="not valid JSON"):
        load_pack(b"{", "x.json")
    with pytest.raises(ContentError, match="does not exist"):
        load_packs([Path("/nonexistent/weirsoe_quips")])
