"""Presence within one process: a socket that fails before it is counted present must not
count its player gone (``transport/_ws.py``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from weirsoe_platform.config import PlatformSettings
from weirsoe_platform.web import create_app


def _connected(client: TestClient[Any], code: str) -> bool:
    info = client.get(f"/api/sessions/{code}").json()
    return bool(info["players"][0]["connected"])


def test_a_second_tab_that_fails_early_leaves_the_player_connected(tmp_path: Path) -> None:
    settings = PlatformSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    app = create_app(settings)
    service = app.state.service
    with TestClient(app) as client:
        room = client.post("/api/sessions", json={"cartridge": "rps"}).json()
        code = room["code"]
        seat = client.post(f"/api/sessions/{code}/players", json={"name": "A"}).json()
        url = f"/ws/game/{code}?token={seat['token']}"
        with client.websocket_connect(url) as first:
            assert first.receive_json()["type"] == "session.snapshot"
            assert _connected(client, code)

            # The second tab fails while reading its snapshot, before it counts as present.
            real = service.snapshot
            calls = {"n": 0}

            async def failing(*args: Any, **kwargs: Any) -> bytes:
                calls["n"] += 1
                raise RuntimeError("snapshot failed")

            service.snapshot = failing
            try:
                with client.websocket_connect(url) as second, pytest.raises(Exception):  # noqa: B017, PT011
                    second.receive_json()
            finally:
                service.snapshot = real
            assert calls["n"] == 1
            # The first tab is still open: the player is still connected.
            assert _connected(client, code)
            first.send_json({"type": "ping"})
            seen = [first.receive_json()["type"] for _ in range(2)]
            assert "pong" in seen
            # Without the fix the early failure announced the player as gone.
            assert "session.player_left" not in seen
        # Closing the last real socket marks the player gone.
        for _ in range(50):
            if not _connected(client, code):
                break
            time.sleep(0.05)
        assert not _connected(client, code)
