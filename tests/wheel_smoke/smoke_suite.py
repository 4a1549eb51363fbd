"""The wheel smoke suite: run by ``run.py`` inside a clean virtual environment that holds only
the built wheels (installed with plain pip) and the test tools, never the uv workspace.

``WEIRSOE_SMOKE_LEG`` is ``lean`` (``pip install weirsoe-platform weirsoe-lies weirsoe-quips``)
or ``redis`` (the same plus the ``[redis]`` extra; ``WEIRSOE_SMOKE_REDIS`` is the server to use).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from _live import BotPlayer, GameClient, Server

LEG = os.environ.get("WEIRSOE_SMOKE_LEG", "lean")
REDIS_URL = os.environ.get("WEIRSOE_SMOKE_REDIS", "redis://127.0.0.1:6379/0")
SITE = Path(sysconfig.get_paths()["purelib"]).resolve()
WEIRSOE = Path(sys.executable).with_name("weirsoe")
FAST = {
    "rounds": 1,
    "questions_per_round": 1,
    "lie_seconds": 2.0,
    "guess_seconds": 2.0,
    "reveal_step_seconds": 0.2,
    "scoreboard_seconds": 0.2,
}


def weirsoe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WEIRSOE), *args], capture_output=True, text=True, timeout=180, check=False, cwd=cwd
    )


def serve_args() -> list[str]:
    if LEG == "redis":
        return ["--redis", REDIS_URL, "--with-worker"]
    return []


@pytest.mark.parametrize(
    "dist", ["weirsoe-sdk", "weirsoe-platform", "weirsoe-lies", "weirsoe-quips"]
)
def test_installed_from_wheels_not_the_workspace(dist: str) -> None:
    found = importlib.metadata.distribution(dist)
    direct = json.loads(found.read_text("direct_url.json") or "{}")
    assert direct.get("url", "").endswith(".whl"), direct
    assert not direct.get("dir_info", {}).get("editable", False)
    module = dist.replace("-", "_")
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    assert Path(spec.origin).resolve().is_relative_to(SITE), spec.origin
    installed = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert "weirsoe-test-rps" not in installed


def test_the_leg_has_exactly_its_extras() -> None:
    present = {m: importlib.util.find_spec(m) is not None for m in ("redis", "taskiq_redis")}
    if LEG == "redis":
        assert all(present.values()), present
    else:
        assert not any(present.values()), present
        assert importlib.util.find_spec("asyncpg") is None
        done = weirsoe("serve", "--redis", REDIS_URL)
        assert done.returncode == 2
        assert "pip install 'weirsoe-platform[redis]'" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_discovery_lists_the_cartridges_from_their_wheels() -> None:
    done = weirsoe("cartridges", "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert listing["errors"] == []
    rows = {row["slug"]: row for row in listing["cartridges"]}
    assert rows["weirsoe_lies"]["distribution"] == "weirsoe-lies"
    assert rows["weirsoe_quips"]["distribution"] == "weirsoe-quips"


def test_db_upgrade_and_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'smoke.db'}"
    up = weirsoe("db", "upgrade", "--database", url)
    assert up.returncode == 0, up.stderr
    assert "platform" in up.stdout
    assert "weirsoe_lies" in up.stdout
    status = weirsoe("db", "status", "--database", url)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "upgrade pending" not in status.stdout


def test_a_full_game_over_rest_and_websocket(tmp_path: Path) -> None:
    env = {"WEIRSOE_REDIS_PREFIX": f"wsmoke-{uuid.uuid4().hex[:8]}"}
    srv = Server(*serve_args(), env=env, cwd=tmp_path)
    try:
        asyncio.run(_play(srv))
    finally:
        srv.stop()


async def _play(srv: Server) -> None:
    from weirsoe_sdk import discover_cartridges

    bot = discover_cartridges().get("weirsoe_lies").bot
    async with httpx.AsyncClient(base_url=srv.base, timeout=30) as http:
        created = await http.post(
            "/api/sessions", json={"cartridge": "weirsoe_lies", "settings": FAST}
        )
        assert created.status_code == 201, created.text
        room: dict[str, Any] = created.json()
        code = room["code"]
        seats = []
        for name in ("Ada", "Bo", "Cy"):
            joined = await http.post(f"/api/sessions/{code}/players", json={"name": name})
            assert joined.status_code == 201, joined.text
            seats.append(joined.json())
        host = await GameClient(
            f"{srv.ws_base}/ws/game/{code}?role=host&token={room['host_token']}"
        ).connect()
        clients = [
            await GameClient(f"{srv.ws_base}/ws/game/{code}?token={s['token']}").connect()
            for s in seats
        ]
        for client in clients:
            await client.wait_for("session.snapshot")
        played = await http.post(
            f"/api/sessions/{code}/control",
            json={"action": "play"},
            headers={"Authorization": f"Bearer {room['host_token']}"},
        )
        assert played.status_code == 200, played.text
        bots = [BotPlayer(c, bot, s["player_id"]) for c, s in zip(clients, seats, strict=True)]
        await asyncio.gather(*(b.run(timeout=120) for b in bots))
        final = await host.wait_for("phase.game_over", timeout=60)
        assert {r["player_id"] for r in final["ranking"]} == {s["player_id"] for s in seats}
        assert sum(len(b.acks) for b in bots) > 0
        assert (await http.get(f"/api/sessions/{code}")).json()["status"] == "over"
        for client in [host, *clients]:
            await client.close()


@pytest.mark.skipif(LEG != "lean", reason="the scaffold does not depend on the extras")
def test_new_cartridge_builds_passes_twine_installs_and_is_discovered(tmp_path: Path) -> None:
    made = weirsoe("new-cartridge", "smoke_duel", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--outdir", str(dist), str(tmp_path / "smoke_duel")]
    _ok(build)
    built = sorted(dist.iterdir())
    assert sorted(p.suffix for p in built) == [".gz", ".whl"], built
    _ok([sys.executable, "-m", "twine", "check", "--strict", *map(str, built)])
    wheel = next(p for p in built if p.suffix == ".whl")
    _ok([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)])
    try:
        done = weirsoe("cartridges", "--json")
        assert done.returncode == 0, done.stderr
        rows = {row["slug"]: row for row in json.loads(done.stdout)["cartridges"]}
        assert rows["smoke_duel"]["distribution"] == "weirsoe-smoke-duel"
    finally:
        _ok([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "weirsoe-smoke-duel"])


def _ok(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
