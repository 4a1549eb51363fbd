"""The audience in the browser: a real ``weirsoe serve``, headless Chromium, the host's big
screen and two audience phones (one reached from the landing page's "Watch and vote", one from
the big screen's second QR code's link) following a whole game of Weirsøe Lies and voting.

The players join over REST and never connect, so every phase runs to its timer and the
audience has the whole guess phase to vote. Screenshots land in ``artifacts/e2e-audience/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _browser_checks import launch_chromium, need_chromium
from _live import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e-audience"
WAIT = 30_000
SETTINGS = {
    "rounds": 1,
    "lie_seconds": 3.0,
    "guess_seconds": 14.0,
    "reveal_step_seconds": 1.5,
    "scoreboard_seconds": 2.0,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_chromium()
    db = tmp_path_factory.mktemp("e2e-audience") / "weirsoe.db"
    srv = Server(env={"WEIRSOE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    try:
        yield srv
    finally:
        srv.stop()


def test_two_audience_pages_follow_a_game_and_vote(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:

            def page(width: int, height: int, who: str, init: str | None = None) -> Any:
                ctx = browser.new_context(
                    base_url=server.base, viewport={"width": width, "height": height}
                )
                ctx.set_default_timeout(WAIT)
                if init:
                    ctx.add_init_script(init)
                p = ctx.new_page()
                p.on("pageerror", lambda exc: errors.append(f"{who}: {exc}"))
                return p

            key = json.dumps(f"weirsoe.host.{code}")
            host = page(
                1920, 1080, "host", f"localStorage.setItem({key}, {json.dumps(json.dumps(token))})"
            )
            host.goto(f"/host?code={code}")
            qr = host.locator("#watch-qr")
            expect(qr).to_have_attribute("src", f"/api/sessions/{code}/qr.svg?for=watch")
            svg = httpx.get(f"{server.base}/api/sessions/{code}/qr.svg?for=watch").text
            assert f"Watch room {code}" in svg

            first = page(390, 800, "audience-1")
            first.goto("/")
            first.click("#watch-link")
            first.fill("#watch-code", code)
            first.click("#watch button[type=submit]")
            first.wait_for_url(f"**/watch/{code}")
            second = page(390, 800, "audience-2")
            second.goto(f"/watch/{code}")  # the second QR code's link
            for p in (first, second):
                expect(p.locator("#lobby")).to_be_visible()
            expect(host.locator("#audience-count")).to_have_text("2")

            host.click("#ctl-play")
            answers = first.locator("#aud-answers button[data-answer]")
            expect(answers.first).to_be_visible()
            choice = answers.first.get_attribute("data-answer")
            choice_text = (answers.first.text_content() or "").strip()
            first.click(f"#aud-answers button[data-answer='{choice}']")
            expect(first.locator("#aud-status")).to_contain_text("Your pick is in")
            expect(second.locator("#aud-answers button[data-answer]").first).to_be_visible()
            second.click(f"#aud-answers button[data-answer='{choice}']")
            expect(second.locator(f"button[data-answer='{choice}']")).to_have_attribute(
                "aria-pressed", "true"
            )
            second.locator(".btn-emoji").first.click()
            first.screenshot(path=str(ARTIFACTS / "audience-guess.png"))

            # The reveal: the big screen's spotlight shows the audience's share of each revealed
            # answer; both members picked `choice`, so its step shows 100% and the crowd's pick.
            share = host.locator(".spot-audience")
            expect(share.first).to_be_visible(timeout=WAIT)
            picked = host.locator(".spot-audience.is-pick[data-audience-share='100']")
            expect(picked).to_be_visible(timeout=WAIT)
            expect(picked).to_contain_text("Audience: 100% (2 of 2)")
            expect(host.locator(".spot-text")).to_have_text(choice_text)
            host.screenshot(path=str(ARTIFACTS / "host-reveal.png"))
            for p in (first, second):
                expect(p.locator("#aud-awards, .aud-ranking").first).to_be_visible(timeout=60_000)
            second.screenshot(path=str(ARTIFACTS / "audience-over.png"))
        finally:
            browser.close()
    assert errors == [], errors
