"""The ``weirsoe cartridges`` and ``weirsoe simulate`` commands, run as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEIRSOE = Path(sys.executable).with_name("weirsoe")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "WEIRSOE_CONTENT_DIR"}
    return subprocess.run(
        [str(WEIRSOE), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**environ, **(env or {})},
    )


@cache
def simulate_json(slug: str, players: int, seed: int = 7) -> str:
    done = run("simulate", slug, "--players", str(players), "--seed", str(seed), "--json")
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_one_line_error(done: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("weirsoe simulate: error: ")
    for part in parts:
        assert part in lines[0]


# -- weirsoe cartridges ------------------------------------------------------------------------
def test_cartridges_json_lists_weirsoe_lies_with_its_distribution() -> None:
    done = run("cartridges", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["errors"] == []
    rows = {row["slug"]: row for row in data["cartridges"]}
    assert rows["weirsoe_lies"]["distribution"] == "weirsoe-lies"
    assert rows["weirsoe_lies"]["title"] == "Weirsøe Lies"
    assert (rows["weirsoe_lies"]["min_players"], rows["weirsoe_lies"]["max_players"]) == (2, 8)
    assert rows["rps"]["distribution"] == "weirsoe-test-rps"
    assert [row["slug"] for row in data["cartridges"]] == sorted(rows)


def test_cartridges_plain_has_a_line_per_cartridge() -> None:
    done = run("cartridges")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("weirsoe_lies "))
    assert "2-8 players" in line
    assert "(weirsoe-lies)" in line


# -- weirsoe simulate --------------------------------------------------------------------------
@pytest.mark.parametrize("players", [2, 6, 8])
def test_simulate_plays_a_whole_game(players: int) -> None:
    out = json.loads(simulate_json("weirsoe_lies", players))
    assert out["status"] == "over"
    assert out["cartridge"] == "weirsoe_lies"
    assert len(out["players"]) == players
    results = out["results"]
    assert len(results["questions"]) == 5
    assert [q["multiplier"] for q in results["questions"]] == [1, 1, 2, 2, 3]

    ranking = results["ranking"]
    scores = [row["score"] for row in ranking]
    assert scores == sorted(scores, reverse=True)
    assert {row["player_id"] for row in ranking} == {p["id"] for p in out["players"]}
    for row in ranking:  # equal scores share a rank: 1, 1, 3
        assert row["rank"] == 1 + sum(score > row["score"] for score in scores)

    totals: Counter[str] = Counter()
    for question in results["questions"]:
        totals.update(question["deltas"])
    assert {row["player_id"]: row["score"] for row in ranking} == {
        row["player_id"]: totals[row["player_id"]] for row in ranking
    }

    assert results["awards"]
    for award in results["awards"]:
        assert {"key", "title", "winners", "value", "emoji"} <= set(award)
        assert award["winners"]
        assert award["value"] > 0


def test_the_same_seed_gives_the_same_output() -> None:
    first = simulate_json("weirsoe_lies", 6)
    again = run("simulate", "weirsoe_lies", "--players", "6", "--seed", "7", "--json")
    assert again.stdout == first
    other = simulate_json("weirsoe_lies", 6, seed=8)
    assert json.loads(other)["results"] != json.loads(first)["results"]


def test_simulate_prints_standings_without_json() -> None:
    done = run("simulate", "weirsoe_lies", "--players", "3", "--seed", "7")
    assert done.returncode == 0, done.stderr
    assert re.match(r"weirsoe_lies \(seed 7\): over after \d+ events", done.stdout)
    assert "Standings" in done.stdout
    assert "Bot 1" in done.stdout


def test_rps_simulates_too() -> None:
    out = json.loads(simulate_json("rps", 3))
    assert out["status"] == "over"
    assert set(out["results"]["scores"]) == {"p1", "p2", "p3"}


def test_settings_from_a_json_or_toml_file(tmp_path: Path) -> None:
    as_json = tmp_path / "quick.json"
    as_json.write_text(json.dumps({"rounds": 2, "questions_per_round": 1}))
    as_toml = tmp_path / "quick.toml"
    as_toml.write_text("rounds = 2\nquestions_per_round = 1\n")
    for path in (as_json, as_toml):
        done = run("simulate", "weirsoe_lies", "--players", "3", "--json", "--settings", str(path))
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["results"]["questions"]) == 2


def test_operator_packs_come_from_weirsoe_content_dir(tmp_path: Path) -> None:
    prompts = [
        {
            "id": f"op-{i}",
            "prompt": f"Operator fact {i}: _____.",
            "truth": f"fact {i}",
            "house_lies": ["red herring", "wild goose", "paper tiger"],
            "category": "Operators",
            "family_safe": True,
        }
        for i in range(5)
    ]
    folder = tmp_path / "weirsoe_lies"
    folder.mkdir()
    pack = {"slug": "operator", "title": "Ours", "version": 1, "prompts": prompts}
    (folder / "ours.json").write_text(json.dumps(pack))
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"packs": ["operator"]}))
    done = run(
        "simulate",
        "weirsoe_lies",
        "--players",
        "4",
        "--json",
        "--settings",
        str(settings),
        env={"WEIRSOE_CONTENT_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    asked = {q["prompt_id"] for q in json.loads(done.stdout)["results"]["questions"]}
    assert asked == {f"op-{i}" for i in range(5)}
    # Without the folder, the pack does not exist.
    assert_one_line_error(
        run("simulate", "weirsoe_lies", "--players", "4", "--settings", str(settings)),
        "unknown pack 'operator'",
    )


# -- errors: exit code 2 and one line on stderr ------------------------------------------------
def test_an_unknown_slug() -> None:
    assert_one_line_error(run("simulate", "chess", "--players", "2"), "unknown cartridge 'chess'")


@pytest.mark.parametrize("players", ["1", "9", "0", "-3"])
def test_a_player_count_out_of_range(players: str) -> None:
    assert_one_line_error(
        run("simulate", "weirsoe_lies", "--players", players), "2-8 players", f"not {players}"
    )


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        ("{not json", ["is not valid"]),
        ('{"rounds": 99}', ["rounds", "<= 5"]),
        ('{"lie_seconds": "soon"}', ["lie_seconds", "Expected `float`"]),
        ('{"colour": "red"}', ["colour", "unknown field"]),
        ('{"packs": ["nope"]}', ["unknown pack 'nope'"]),
        ("[1, 2]", ["must hold an object"]),
    ],
    ids=["invalid-json", "out-of-bounds", "wrong-type", "unknown-field", "unknown-pack", "list"],
)
def test_a_bad_settings_file(tmp_path: Path, content: str, parts: list[str]) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content)
    done = run("simulate", "weirsoe_lies", "--players", "3", "--settings", str(path))
    assert_one_line_error(done, *parts)


def test_a_missing_settings_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    done = run("simulate", "weirsoe_lies", "--players", "3", "--settings", str(missing))
    assert_one_line_error(done, "cannot read settings file", str(missing))


# -- the platform never imports a cartridge by name --------------------------------------------
IMPORT = re.compile(
    r"^\s*(?:from\s+weirsoe_lies\b|import\s+(?:[\w.]+\s*,\s*)*weirsoe_lies\b)"
    r"|import_module\(\s*['\"]weirsoe_lies|__import__\(\s*['\"]weirsoe_lies",
    re.MULTILINE,
)


def test_the_pattern_finds_imports() -> None:
    for line in (
        "from weirsoe_lies import INFO",
        "    import weirsoe_lies.driver",
        "import os, weirsoe_lies",
        "importlib.import_module('weirsoe_lies.plugin')",
    ):
        assert IMPORT.search(line), line
    assert not IMPORT.search('create("weirsoe_lies")')


def test_no_platform_file_imports_weirsoe_lies() -> None:
    files = sorted((ROOT / "platform").rglob("*.py"))
    assert len(files) > 5
    offenders = [
        str(path.relative_to(ROOT))
        for path in files
        if IMPORT.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_the_platform_does_not_depend_on_weirsoe_lies() -> None:
    text = (ROOT / "platform" / "pyproject.toml").read_text(encoding="utf-8")
    assert "weirsoe-lies" not in text
    assert "weirsoe_lies" not in text


# -- the second first-party cartridge ----------------------------------------------------------
def test_simulate_plays_a_whole_game_of_quips_and_the_same_seed_replays_it() -> None:
    first = run("simulate", "weirsoe_quips", "--players", "6", "--seed", "3")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("weirsoe_quips (seed 3): over after ")
    assert "Standings" in first.stdout
    assert len(re.findall(r"^\s+\d\. Bot \d", first.stdout, re.M)) == 6
    again = run("simulate", "weirsoe_quips", "--players", "6", "--seed", "3")
    assert again.stdout == first.stdout
    out = json.loads(simulate_json("weirsoe_quips", 6, seed=3))
    assert out["status"] == "over"
    other = json.loads(simulate_json("weirsoe_quips", 6, seed=4))
    assert other["results"] != out["results"]


def test_simulate_refuses_too_few_players_for_quips() -> None:
    assert_one_line_error(run("simulate", "weirsoe_quips", "--players", "2"), "3-8 players")


def test_both_first_party_games_are_listed() -> None:
    done = run("cartridges", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["slug"]: row for row in json.loads(done.stdout)["cartridges"]}
    assert rows["weirsoe_quips"]["distribution"] == "weirsoe-quips"
    assert rows["weirsoe_quips"]["title"] == "Weirsøe Quips"
    assert (rows["weirsoe_quips"]["min_players"], rows["weirsoe_quips"]["max_players"]) == (3, 8)
    assert "weirsoe_lies" in rows
