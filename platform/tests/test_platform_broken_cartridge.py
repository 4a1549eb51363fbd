"""A cartridge that fails to import is skipped with one clear log line naming its distribution,
and listed by ``weirsoe cartridges`` (like datasette's plugin listing); the server still runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from litestar.testing import TestClient

from weirsoe_platform.cli import main
from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app

ERROR = (
    "broken (weirsoe-broken): cannot be imported: ModuleNotFoundError: "
    "No module named 'weirsoe_no_such_dependency'"
)


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "weirsoe_broken-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: weirsoe-broken\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[weirsoe.cartridges]\nbroken = weirsoe_broken_game\n")
    (tmp_path / "weirsoe_broken_game.py").write_text("import weirsoe_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.usefixtures("broken")
def test_serve_skips_it_with_one_log_line(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(PlatformSettings(database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    lines = [r for r in caplog.records if "weirsoe-broken" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in lines if r.levelno >= logging.WARNING] == [
        (logging.ERROR, f"cartridge not loaded: {ERROR}")
    ]
    with TestClient(app) as client:
        slugs = [c["slug"] for c in client.get("/api/cartridges").json()["cartridges"]]
    assert "weirsoe_lies" in slugs
    assert "broken" not in slugs


@pytest.mark.usefixtures("broken")
def test_weirsoe_cartridges_lists_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cartridges"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"not loaded: {ERROR}" in out
    assert any(line.startswith("weirsoe_lies ") for line in out)
    assert main(["cartridges", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["errors"] == [ERROR]
    assert "weirsoe_lies" in [row["slug"] for row in listing["cartridges"]]
