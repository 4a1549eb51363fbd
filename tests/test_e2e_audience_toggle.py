"""The host's "Audience: on/off" switch on the big screen: a real ``weirsoe serve``, headless
Chromium. Clicking it turns the audience off (the server then refuses audience joins with 409
``audience_off``) and clicking again turns it back on, in the lobby and during the game."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _browser_checks import (
    Watch,
    axe_violations,
    big_screen_problems,
    launch_chromium,
    need_chromium,
)
from _live import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 30_000
SETTINGS = {"rounds": 1, "lie_seconds": 30.0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_chromium()
    db = tmp_path_factory.mktemp("e2e-audience-toggle") / "weirsoe.db"
    srv = Server(env={"WEIRSOE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    try:
        yield srv
    finally:
        srv.stop()


def _screen_is_clean(page: Any, where: str) -> None:
    """The switch adds no small player-read text, no overlap and no accessibility violation."""
    found = big_screen_problems(page)
    assert found["small"] == [], (where, found["small"])
    assert found["overlaps"] == [], (where, found["overlaps"])
    assert axe_violations(page) == [], where


def _join_audience(server: Server, code: str) -> httpx.Response:
    return httpx.post(f"{server.base}/api/sessions/{code}/audience", timeout=10)


def test_host_switches_the_audience_off_and_on(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT)
    room = httpx.post(
        f"{server.base}/api/sessions",
        json={"cartridge": "weirsoe_lies", "settings": SETTINGS},
        timeout=30,
    ).json()
    code, token = room["code"], room["host_token"]
    for name in ("Ann", "Bob", "Cy"):
        r = httpx.post(f"{server.base}/api/sessions/{code}/players", json={"name": name})
        assert r.status_code == 201, r.text
    watch = Watch()
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            ctx = browser.new_context(
                base_url=server.base, viewport={"width": 1920, "height": 1080}
            )
            ctx.set_default_timeout(WAIT)
            key = json.dumps(f"weirsoe.host.{code}")
            ctx.add_init_script(f"localStorage.setItem({key}, {json.dumps(json.dumps(token))})")
            host: Any = watch.attach(ctx.new_page(), "host")
            host.goto(f"/host?code={code}")
            switch = host.locator("#ctl-audience")

            def flip(expect_on: bool) -> None:
                switch.click()
                expect(switch).to_have_text("Audience: on" if expect_on else "Audience: off")
                expect(switch).to_have_attribute("aria-pressed", "true" if expect_on else "false")

            # In the lobby.
            expect(switch).to_have_text("Audience: on")
            expect(switch).to_have_attribute("aria-pressed", "true")
            assert _join_audience(server, code).status_code == 201
            flip(expect_on=False)
            refused = _join_audience(server, code)
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "audience_off", refused.text
            expect(host.locator("#audience-panel")).to_be_hidden()
            flip(expect_on=True)
            assert _join_audience(server, code).status_code == 201
            expect(host.locator("#audience-panel")).to_be_visible()
            _screen_is_clean(host, "lobby")

            # During the game the switch stays in the top bar.
            host.click("#ctl-play")
            expect(host.locator("#ctl-pause")).to_be_visible()
            flip(expect_on=False)
            refused = _join_audience(server, code)
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "audience_off", refused.text
            _screen_is_clean(host, "game, audience off")
            flip(expect_on=True)
            assert _join_audience(server, code).status_code == 201
        finally:
            browser.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors
