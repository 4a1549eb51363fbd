"""The shared browser client (static/client.js) in Chromium: a kicked player's socket closes
with 4408 and the client treats it as final, reporting it once and never reconnecting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _live import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    db = tmp_path_factory.mktemp("kick") / "weirsoe.db"
    srv = Server(env={"WEIRSOE_DATABASE_URL": f"sqlite:///{db}"})
    try:
        yield srv
    finally:
        srv.stop()


# Counts every WebSocket the page opens, then runs the real client for the player.
START = """async ([code, token]) => {
  window.sockets = 0;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.sockets += 1; }
  };
  window.fatal = [];
  window.states = [];
  const { GameClient } = await import("/static/client.js");
  window.client = new GameClient({
    code, role: "player", token,
    onMessage: () => {},
    onState: (s) => window.states.push(s),
    onFatal: (c) => window.fatal.push(c.code),
  }).start();
}"""


def test_a_kicked_client_stops_at_4408_and_never_reconnects(server: Server) -> None:
    from playwright.sync_api import sync_playwright

    room = httpx.post(f"{server.base}/api/sessions", json={"cartridge": "weirsoe_lies"}).json()
    code, host = room["code"], room["host_token"]
    seat = httpx.post(f"{server.base}/api/sessions/{code}/players", json={"name": "Kim"}).json()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{server.base}/")
            page.evaluate(START, [code, seat["token"]])
            page.wait_for_function("window.states.includes('open')", timeout=WAIT_MS)
            kicked = httpx.post(
                f"{server.base}/api/sessions/{code}/players/{seat['player_id']}/kick",
                headers={"Authorization": f"Bearer {host}"},
            )
            assert kicked.status_code == 200, kicked.text
            page.wait_for_function("window.fatal.length > 0", timeout=WAIT_MS)
            assert page.evaluate("window.fatal") == [4408]
            # A reconnect would be due within the first backoff (at most 0.5 s); wait well
            # past it and check no second socket was ever opened.
            page.wait_for_timeout(2_000)
            assert page.evaluate("window.sockets") == 1
            assert page.evaluate("window.states.at(-1)") == "closed"
            assert "reconnecting" not in page.evaluate("window.states")
        finally:
            browser.close()
