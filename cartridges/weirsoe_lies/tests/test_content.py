"""Question packs: the core pack, the loader's error messages, operator packs, family mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from weirsoe_lies.content import BLANK, builtin_packs, load_pack, load_packs
from weirsoe_lies.driver import LiesDriver
from weirsoe_lies.plugin import make_cartridge
from weirsoe_lies.settings import LiesSettings
from weirsoe_lies.state import LiesState
from weirsoe_sdk import (
    ContentError,
    InvalidSettings,
    discover_cartridges,
    get_plugin_manager,
    same_answer,
)
from weirsoe_sdk.testing import Harness


def prompt(i: int, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": f"op-{i}",
        "prompt": f"Operator question {i} has a _____ in it.",
        "truth": f"answer {i}",
        "house_lies": ["red herring", "wild goose", "paper tiger"],
        "category": "Operators",
        "family_safe": True,
    }
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def pack(slug: str = "operator", count: int = 6, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": slug,
        "title": "Operator pack",
        "version": 1,
        "prompts": [prompt(i) for i in range(count)],
    }
    data.update(changes)
    return data


def write(folder: Path, name: str, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# -- the core pack -----------------------------------------------------------------------------
def test_the_core_pack() -> None:
    packs = {p.slug: p for p in builtin_packs()}
    core = packs["core"]
    assert len(core.prompts) >= 150
    assert len({p.id for p in core.prompts}) == len(core.prompts)
    for p in core.prompts:
        assert p.prompt.count(BLANK) == 1, p.id
        assert p.truth.strip(), p.id
        assert p.category.strip(), p.id
        assert isinstance(p.family_safe, bool)
        assert len(p.house_lies) >= 3, p.id
        assert len({lie.casefold() for lie in p.house_lies}) == len(p.house_lies), p.id
        for lie in p.house_lies:
            assert not any(same_answer(lie, t) for t in (p.truth, *p.alternates)), (p.id, lie)


def test_the_core_pack_has_enough_family_prompts_for_the_longest_game() -> None:
    longest = LiesSettings(rounds=5, questions_per_round=5, family_mode=True)
    core = {p.slug: p for p in builtin_packs()}
    driver = LiesDriver(core)
    assert len(driver.pool(longest)) >= longest.question_count == 21
    driver.check_settings(longest)


# -- the loader's errors name the pack, the entry and the field --------------------------------
@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([prompt(0), prompt(1, truth=None)], ["entry 1 (id op-1)", "field truth", "missing"]),
        ([prompt(0, family_safe="yes")], ["entry 0 (id op-0)", "field family_safe", "bool"]),
        (
            [prompt(0), prompt(1), prompt(2, house_lies=["a", "b"])],
            ["entry 2 (id op-2)", "field house_lies", "at least 3"],
        ),
        ([prompt(0, prompt="No blank here.")], ["entry 0 (id op-0)", "field prompt", BLANK]),
        ([prompt(0, prompt="Two _____ and _____.")], ["entry 0", "field prompt"]),
        ([prompt(0), prompt(1, id="op-0")], ["entry 1 (id op-0)", "field id", "duplicate"]),
        (
            [prompt(0, house_lies=["Answer 0!", "x", "y"])],
            ["entry 0 (id op-0)", "field house_lies", "matches the truth"],
        ),
        ([prompt(0, house_lies=["x", "y", ""])], ["entry 0 (id op-0)", "field house_lies[2]"]),
        ([prompt(0, colour="red")], ["entry 0 (id op-0)", "field colour", "unknown"]),
        ([prompt(0, truth="t" * 61)], ["entry 0 (id op-0)", "field truth", "length"]),
        ([5], ["entry 0 (id ?)", "field (entry)", "object"]),
    ],
)
def test_a_broken_entry_is_named(tmp_path: Path, entries: list[Any], expected: list[str]) -> None:
    path = write(tmp_path, "broken.json", pack(prompts=entries))
    with pytest.raises(ContentError) as info:
        load_packs([tmp_path])
    assert info.value.code == "invalid_pack"
    assert info.value.message.startswith(str(path))
    for part in expected:
        assert part in info.value.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("{not json", ["not valid JSON"]),
        (pack(slug="Bad Slug!"), ["field slug"]),
        ({"slug": "x", "version": 1, "prompts": []}, ["field title", "missing"]),
        (pack(version="one"), ["field version", "int"]),
        ([1, 2], ["field (top level)", "object"]),
    ],
)
def test_a_broken_pack_is_named(tmp_path: Path, data: Any, expected: list[str]) -> None:
    path = write(tmp_path, "broken.json", data)
    with pytest.raises(ContentError) as info:
        load_pack(path.read_bytes(), str(path))
    for part in expected:
        assert part in info.value.message


def test_every_broken_entry_is_reported_at_once(tmp_path: Path) -> None:
    entries = [prompt(0, prompt="no blank"), prompt(1), prompt(2, house_lies=["a", "b"])]
    write(tmp_path, "broken.json", pack(prompts=entries))
    with pytest.raises(ContentError) as info:
        load_packs([tmp_path])
    lines = info.value.message.splitlines()
    assert len(lines) == 2
    assert "entry 0" in lines[0]
    assert "entry 2" in lines[1]


def test_a_missing_content_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="does not exist"):
        load_packs([tmp_path / "nowhere"])


# -- operator packs: <content_dir>/weirsoe_lies/*.json -----------------------------------------
def test_make_cartridge_picks_up_operator_packs(tmp_path: Path) -> None:
    write(tmp_path / "weirsoe_lies", "mine.json", pack())
    write(tmp_path / "weirsoe_lies", "notes.txt", "not a pack")
    write(tmp_path / "other_game", "theirs.json", pack(slug="theirs"))
    cartridge = make_cartridge(tmp_path)
    driver = cartridge.driver
    assert isinstance(driver, LiesDriver)
    assert set(driver.packs) == {"core", "operator"}
    record = Harness(cartridge, players=3, seed=5, settings={"packs": ["operator"]}).play()
    final = record.table.state
    assert isinstance(final, LiesState)
    assert {c.prompt_id for c in final.cards} <= {f"op-{i}" for i in range(6)}


def test_an_operator_pack_may_replace_a_builtin_one(tmp_path: Path) -> None:
    write(tmp_path / "weirsoe_lies", "core.json", pack(slug="core"))
    driver = make_cartridge(tmp_path).driver
    assert isinstance(driver, LiesDriver)
    assert len(driver.packs["core"].prompts) == 6


def test_without_an_operator_folder_only_builtin_packs_load(tmp_path: Path) -> None:
    driver = make_cartridge(tmp_path).driver
    assert isinstance(driver, LiesDriver)
    assert set(driver.packs) == {p.slug for p in builtin_packs()}


def test_discovery_passes_the_content_dir_and_reports_a_broken_pack(tmp_path: Path) -> None:
    write(tmp_path / "weirsoe_lies", "mine.json", pack())
    found = discover_cartridges(config={"content_dir": str(tmp_path)})
    driver = found.get("weirsoe_lies").driver
    assert isinstance(driver, LiesDriver)
    assert "operator" in driver.packs

    write(tmp_path / "weirsoe_lies", "zz-broken.json", pack(prompts=[prompt(0, truth=None)]))
    pm = get_plugin_manager()
    broken = discover_cartridges(pm, config={"content_dir": str(tmp_path)})
    assert "weirsoe_lies" not in broken.cartridges
    assert "rps" in broken.cartridges
    assert any("zz-broken.json: entry 0 (id op-0): field truth" in e for e in broken.errors)


# -- settings that depend on the packs ---------------------------------------------------------
def test_an_unknown_pack_is_a_settings_error(tmp_path: Path) -> None:
    cartridge = make_cartridge(tmp_path)
    with pytest.raises(InvalidSettings) as info:
        cartridge.load_settings({"packs": ["core", "nope"]})
    assert info.value.field == "packs"
    assert "nope" in info.value.message


def test_too_few_questions_is_a_settings_error(tmp_path: Path) -> None:
    write(tmp_path / "weirsoe_lies", "mine.json", pack(count=4))
    cartridge = make_cartridge(tmp_path)
    with pytest.raises(InvalidSettings) as info:
        cartridge.load_settings({"packs": ["operator"]})  # 5 questions by default
    assert info.value.field == "packs"
    cartridge.load_settings({"packs": ["operator"], "rounds": 2, "questions_per_round": 3})


def test_family_mode_uses_only_family_safe_prompts() -> None:
    core = {p.slug: p for p in builtin_packs()}
    safe = {p.id for p in core["core"].prompts if p.family_safe}
    assert len(safe) < len(core["core"].prompts)  # there is something to filter out
    driver = LiesDriver(core)
    assert {p.id for p in driver.pool(LiesSettings(family_mode=True))} == safe
    assert len(driver.pool(LiesSettings())) == len(core["core"].prompts)

    cartridge = discover_cartridges().get("weirsoe_lies")
    dealt: set[str] = set()
    for seed in range(40):
        harness = Harness(cartridge, players=2, seed=seed, settings={"family_mode": True})
        harness.join_all()
        harness.control("play")
        state = harness.table.state
        assert isinstance(state, LiesState)
        dealt |= {c.prompt_id for c in state.cards}
    assert dealt <= safe
    assert len(dealt) > 50


def test_family_mode_with_too_few_safe_prompts_is_refused(tmp_path: Path) -> None:
    entries = [prompt(i, family_safe=i < 2) for i in range(8)]
    write(tmp_path / "weirsoe_lies", "mine.json", pack(prompts=entries))
    cartridge = make_cartridge(tmp_path)
    cartridge.load_settings({"packs": ["operator"]})
    with pytest.raises(InvalidSettings) as info:
        cartridge.load_settings({"packs": ["operator"], "family_mode": True})
    assert "only 2 available" in info.value.message
