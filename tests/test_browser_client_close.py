"""The shared browser client (static/client.js) in Chromium: a kicked player's socket closes
with 4408 and the client treats it as final, reporting it once and never reconnecting."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from _browser_checks import launch_chromium, need_chromium
from _live import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_chromium()
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
        browser = launch_chromium(pw)
        try:
            page = browser.new_page()
            page.goto(f"{server.base}/")
            page.evaluate(START, [code, seat["token"]])
            page.wait_for_function("() => window.states.includes('open')", timeout=WAIT_MS)
            kicked = httpx.post(
                f"{server.base}/api/sessions/{code}/players/{seat['player_id']}/kick",
                headers={"Authorization": f"Bearer {host}"},
            )
            assert kicked.status_code == 200, kicked.text
            page.wait_for_function("() => window.fatal.length > 0", timeout=WAIT_MS)
            assert page.evaluate("window.fatal") == [4408]
            # A reconnect would be due within the first backoff (at most 0.5 s); wait well
            # past it and check no second socket was ever opened.
            page.wait_for_timeout(2_000)
            assert page.evaluate("window.sockets") == 1
            assert page.evaluate("window.states.at(-1)") == "closed"
            assert "reconnecting" not in page.evaluate("window.states")
        finally:
            browser.close()
