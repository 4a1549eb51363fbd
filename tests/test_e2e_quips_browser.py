"""Weirsøe Quips end to end in the browser: a real ``weirsoe serve``, Debian's headless Chromium,
the host screen at 1920×1080 and four phones at 360 px, playing a whole game through the UI only.

One screenshot of the host and one of a phone per phase land in ``artifacts/e2e-quips/``. On
every phase the host's readable text is at least 28 CSS px and no phone scrolls sideways.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser_checks import Watch, launch_chromium, need_chromium
from _live import Server
from test_e2e_browser import WAIT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e-quips"
HOSTILE = "<img src=x onerror=alert(1)>"
SETTINGS = {
    "write_seconds": "120",
    "vote_seconds": "120",
    "result_seconds": "1.5",
    "scoreboard_seconds": "1.5",
}
# The smallest font of any element that holds text a player reads (the countdown's digits are
# the platform's, sized by the ring).
MIN_FONT = """() => {
  let min = 1e9;
  for (const e of document.querySelectorAll('.quips-host *')) {
    if (e.closest('.ring')) continue;
    const text = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !e.getBoundingClientRect().width) continue;
    min = Math.min(min, parseFloat(getComputedStyle(e).fontSize));
  }
  return min;
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_chromium()
    db = tmp_path_factory.mktemp("e2e-quips") / "weirsoe.db"
    srv = Server(
        env={"WEIRSOE_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "WEIRSOE_GRACE_SECONDS": "120"}
    )
    try:
        yield srv
    finally:
        srv.stop()


def test_whole_quips_game_with_four_phones(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    expect.set_options(timeout=WAIT)
    watch = Watch()
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            phases = play(browser, server, watch, expect)
        finally:
            browser.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors
    expected = {"write", "vote", "result", "scoreboard", "final-write", "final_vote", "over"}
    assert expected <= phases, phases
    assert {p.stem for p in ARTIFACTS.glob("*.png")} >= {f"host-{p}" for p in expected}


def play(browser: Any, server: Server, watch: Watch, expect: Any) -> set[str]:
    def context(width: int, height: int) -> Any:
        ctx = browser.new_context(
            base_url=server.base,
            viewport={"width": width, "height": height},
            reduced_motion="reduce",
        )
        ctx.set_default_timeout(WAIT)
        return ctx

    host = watch.attach(context(1920, 1080).new_page(), "host")
    phones = [watch.attach(context(360, 740).new_page(), f"p{i}") for i in range(1, 5)]

    # The host page offers every installed game; pick Quips and short result timers.
    host.goto("/host")
    expect(host.locator("#game-weirsoe_lies")).to_be_visible()
    host.check("#game-weirsoe_quips")
    host.click("details.settings summary")
    for key, value in SETTINGS.items():
        host.fill(f"#s-weirsoe_quips-{key}", value)
    host.click("#open-room")
    code = host.locator("#room-code").inner_text(timeout=WAIT).strip()
    for i, phone in enumerate(phones):
        phone.goto(f"/?code={code}")
        phone.fill("#name", ["Ann", "Bob", "Cleo", "Dan"][i])
        phone.click("#join-btn")
        phone.wait_for_url(f"**/play/{code}")
    expect(host.locator("#lobby-players .player.is-on")).to_have_count(4)
    host.click("#ctl-play")
    frame = host.locator(".quips-host")
    expect(frame).to_be_visible()

    seen: set[str] = set()
    written = 0
    end = time.monotonic() + 300
    while time.monotonic() < end:
        phase = frame.get_attribute("data-phase") or ""
        final = "Final" in (host.locator(".q-chip").text_content() or "")
        key = f"final-{phase}" if final and phase == "write" else phase
        if phase and key not in seen:
            seen.add(key)
            host.wait_for_timeout(300)  # let the snapshot settle before the picture
            host.screenshot(path=str(ARTIFACTS / f"host-{key}.png"))
            phones[0].screenshot(path=str(ARTIFACTS / f"phone-{key}.png"))
            assert host.evaluate(MIN_FONT) >= 28, key
            for phone in phones:
                assert phone.evaluate(SIDEWAYS) <= 0, key
        if phase == "over":
            break
        for n, phone in enumerate(phones):
            if phase == "write":
                forms = phone.locator("form.q-phone-card")
                for _ in range(2):  # each answer redraws the phone: take the first open form
                    open_forms = forms.count()
                    if not open_forms:
                        break
                    form, written = forms.first, written + 1
                    if n == 3 and written % 3 == 0:
                        form.locator("button[id^=for-me]").click()
                    else:
                        text = HOSTILE if written == 1 else f"answer number {written} from {n}"
                        form.locator("input").fill(text)
                        form.locator("button[type=submit]").click()
                    expect(forms).to_have_count(open_forms - 1)
            elif phase == "vote":
                buttons = phone.locator(".q-vote-list .answer-btn")
                if buttons.count():
                    buttons.first.click()
            elif phase == "final_vote":
                buttons = phone.locator(".q-vote-list .answer-btn")
                if buttons.count() and phone.locator("#send-votes").count():
                    for _ in range(3):
                        buttons.first.click()
                    phone.click("#send-votes")
        host.wait_for_timeout(250)
    else:
        raise AssertionError(f"the game did not end; phases seen: {sorted(seen)}")

    expect(host.locator(".q-board .q-score-row")).to_have_count(4)
    expect(host.locator(".q-award")).not_to_have_count(0)
    assert host.locator("img[src='x']").count() == 0  # the hostile answer stayed text
    for phone in phones:
        expect(phone.locator("#my-rank")).to_have_text(re.compile(r"^[1-4]$"))
    return seen
