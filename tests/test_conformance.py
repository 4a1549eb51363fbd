"""The conformance kit: every installed cartridge has a recorded session for this protocol
version, and replaying each against a live server (seeded like the recording) matches every
frame of every role. The replay script's diff catches a changed frame."""

from __future__ import annotations

import asyncio
import copy
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _live import Server

import weirsoe_platform
from weirsoe_sdk import discover_cartridges

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "conformance"
sys.path.insert(0, str(KIT))

import replay  # noqa: E402

SESSIONS = sorted((KIT / "sessions").glob("*/*.jsonl"))
SEED = 7  # every recording uses it, so one server replays them all


def test_every_cartridge_has_a_session_for_this_protocol_version() -> None:
    recorded = {p.parent.name for p in SESSIONS if p.name.startswith(weirsoe_platform.__version__)}
    installed = set(discover_cartridges().cartridges)
    missing = installed - recorded
    assert not missing, (
        f"no conformance session for {sorted(missing)} at protocol {weirsoe_platform.__version__};"
        " record one with conformance/record.py (see conformance/README.md)"
    )
    for path in SESSIONS:
        meta, steps, frames = replay.load(path)
        assert meta["seed"] == SEED, path
        assert meta["cartridge"] == path.parent.name
        assert any(s["kind"] == "send" and s["frame"]["type"] == "action" for s in steps)
        assert {"host", "audience", "p1"} <= set(frames)
        assert any(f["type"] == "session.finished" for f in frames["host"]), path


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("conformance") / "accounts.db"
    env = {"WEIRSOE_ROOM_SEED": str(SEED), "WEIRSOE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    srv = Server("--host", "127.0.0.1", env=env)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_recorded_session_replays_frame_for_frame(seeded_server: Server, path: Path) -> None:
    problems = asyncio.run(replay.replay(path, seeded_server.base))
    assert problems == [], "\n".join(problems)


def test_the_diff_names_the_first_changed_frame() -> None:
    _, _, frames = replay.load(SESSIONS[0])
    changed = copy.deepcopy(frames)
    changed["p1"][2] = {**changed["p1"][2], "type": "made.up"}
    problems = replay.diff(frames, changed)
    assert len(problems) == 1
    assert problems[0].startswith("p1 frame 2:")
    shorter = {**frames, "host": frames["host"][:-1]}
    assert any("expected" in p and "frames, got" in p for p in replay.diff(frames, shorter))
    assert replay.diff(frames, copy.deepcopy(frames)) == []


def test_normalising_hides_only_what_differs_between_runs() -> None:
    names = {"ABCD": "CODE", "x7f": "p1"}
    frame = {"ts": 1.5, "deadline": None, "scores": {"x7f": 3}, "code": "ABCD", "n": 2}
    assert replay.normalise(frame, names) == {
        "ts": "<time>",
        "deadline": None,
        "scores": {"p1": 3},
        "code": "CODE",
        "n": 2,
    }
