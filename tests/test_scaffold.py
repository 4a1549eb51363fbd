"""The author kit end to end: generate a cartridge, install it into a fresh virtual environment
with the SDK, run its own tests, then serve it and play it over real WebSockets."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _live import BotPlayer, GameClient, Server

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 600) -> str:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(cmd)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def test_bad_names_and_existing_folders_write_nothing(tmp_path: Path) -> None:
    weirsoe = [sys.executable, "-m", "weirsoe_platform.cli", "new-cartridge"]
    for bad in ["Bad", "9lives", "x", "with-dash", "class", "json", "a__b", "trailing_"]:
        r = subprocess.run([*weirsoe, bad, "--dir", str(tmp_path)], capture_output=True, text=True)
        assert r.returncode == 2, (bad, r.stderr)
        assert r.stderr.count("\n") == 1, (bad, r.stderr)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    r = subprocess.run([*weirsoe, "taken", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "already exists" in r.stderr
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no staging left behind


def test_generated_cartridge_installs_passes_its_tests_and_plays(tmp_path: Path) -> None:
    _run(
        [
            sys.executable,
            "-m",
            "weirsoe_platform.cli",
            "new-cartridge",
            "number_duel",
            "--dir",
            str(tmp_path),
        ]
    )
    package = tmp_path / "number_duel"
    pyproject = (package / "pyproject.toml").read_text()
    assert '"weirsoe.cartridges"' in pyproject
    # Only classifiers PyPI knows (an unregistered one makes an upload fail), and the SDK
    # bounded to its release series.
    assert "Framework :: Weirsoe" not in pyproject
    assert not (package / "hatch_build.py").exists()
    assert "weirsoe-sdk>=0.1,<0.2" in pyproject
    assert "MIT License" in (package / "LICENSE").read_text()

    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    # `uv run` tells its children where uv is; fall back to a uv on PATH.
    uv = [os.environ.get("UV") or shutil.which("uv") or "uv"]
    _run([*uv, "venv", str(venv), "--python", sys.executable, "--quiet"])
    # A cartridge needs only the SDK: install the two, and its own tests pass with no edits.
    _run(
        [
            *uv,
            "pip",
            "install",
            "--python",
            python,
            "--quiet",
            "-e",
            str(ROOT / "cartridges" / "sdk"),
            "-e",
            f"{package}[test]",
        ]
    )
    out = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package)
    assert " passed" in out
    assert "failed" not in out
    classifiers = _run(
        [
            python,
            "-c",
            "import importlib.metadata as m; "
            "print(m.metadata('weirsoe-number-duel').get_all('Classifier'))",
        ]
    )
    assert "Topic :: Games/Entertainment" in classifiers
    assert "Framework :: Weirsoe" not in classifiers

    # With the platform installed too, the new cartridge is discovered, and served.
    _run([*uv, "pip", "install", "--python", python, "--quiet", "-e", str(ROOT / "platform")])
    listed = _run([python, "-m", "weirsoe_platform.cli", "cartridges", "--json"])
    assert '"number_duel"' in listed
    assert '"weirsoe-number-duel"' in listed
    work = tmp_path / "run"
    work.mkdir()
    srv = Server(env={"PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}, python=python, cwd=work)
    try:
        sys.path.insert(0, str(package / "src"))
        from number_duel.game import Bot  # the generated bot, playing over the wire

        async def main() -> None:
            async with httpx.AsyncClient(base_url=srv.base) as http:
                cartridges = (await http.get("/api/cartridges")).json()["cartridges"]
                assert "number_duel" in [c["slug"] for c in cartridges]
                room = (
                    await http.post(
                        "/api/sessions",
                        json={
                            "cartridge": "number_duel",
                            "settings": {"pick_seconds": 1.0, "reveal_seconds": 0.3},
                        },
                    )
                ).json()
                seats = [
                    (
                        await http.post(f"/api/sessions/{room['code']}/players", json={"name": n})
                    ).json()
                    for n in ("Ada", "Bo", "Cy")
                ]
                host = await GameClient(
                    f"{srv.ws_base}/ws/game/{room['code']}?role=host&token={room['host_token']}"
                ).connect()
                clients = [
                    await GameClient(
                        f"{srv.ws_base}/ws/game/{room['code']}?token={s['token']}"
                    ).connect()
                    for s in seats
                ]
                await asyncio.gather(*(c.wait_for("session.snapshot") for c in clients))
                await http.post(
                    f"/api/sessions/{room['code']}/control",
                    json={"action": "play"},
                    headers={"Authorization": f"Bearer {room['host_token']}"},
                )
                bots = [
                    BotPlayer(c, Bot(), s["player_id"]) for c, s in zip(clients, seats, strict=True)
                ]
                await asyncio.gather(
                    *(b.run(until="number_duel.finished", timeout=150) for b in bots)
                )
                done = await host.wait_for("number_duel.finished")
                assert set(done["scores"]) == {s["player_id"] for s in seats}
                assert host.types.count("number_duel.revealed") == 3
                ui = await http.get("/cartridges/number_duel/ui/host.js")
                assert ui.status_code == 200
                assert "export function mount" in ui.text
                for c in [host, *clients]:
                    await c.close()

        asyncio.run(main())
        assert (work / "weirsoe.db").exists()  # embedded serve migrated SQLite, its table included
        import sqlite3

        tables = {
            r[0]
            for r in sqlite3.connect(work / "weirsoe.db").execute("select name from sqlite_master")
        }
        assert "number_duel_presets" in tables
    finally:
        srv.stop()
        sys.path.remove(str(package / "src"))
        sys.modules.pop("number_duel.game", None)
        sys.modules.pop("number_duel", None)


def test_the_tutorial_quotes_the_template_exactly(tmp_path: Path) -> None:
    import re

    from weirsoe_platform.scaffold import create_cartridge

    package = create_cartridge("number_duel", tmp_path)
    text = (ROOT / "docs" / "cartridges" / "tutorial.md").read_text()
    blocks = re.findall(r"<!-- from: (\S+) -->\n```\w+\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    for path, block in blocks:
        source = (package / path).read_text()
        assert block in source, f"tutorial excerpt no longer matches {path}:\n{block}"
