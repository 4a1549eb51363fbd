"""The browser experience end to end: a real ``weirsoe serve``, Debian's headless Chromium, a
host screen and three phones, playing a whole game of Weirsøe Lies through the UI only.

Screenshots of every host phase and of one phone land in ``artifacts/e2e/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser_checks import (
    LONG_NAMES,
    SocketBot,
    Watch,
    axe_violations,
    big_screen_problems,
    launch_chromium,
    need_chromium,
    phone_problems,
    save,
)
from _live import Server, free_port

from weirsoe_lies.content import builtin_packs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e"
WAIT = 20_000  # ms: generous for a loaded CI machine; nothing here waits for a timer
HOSTILE_LIE = "<img src=x onerror=alert(1)>"
HOSTILE_NAME = "<svg onload=alert()>"  # 20 characters: the longest name the platform accepts
SETTINGS = {
    "rounds": "2",
    "questions_per_round": "1",
    "lie_seconds": "90",
    "guess_seconds": "90",
    "reveal_step_seconds": "1.2",
    "scoreboard_seconds": "6",  # long enough to check the scoreboard on screen and phone
}


def truth_of(prompt_text: str) -> tuple[str, list[str]]:
    """The truth (and its accepted spellings) of the prompt shown on screen."""
    shown = " ".join(prompt_text.split())
    for pack in builtin_packs():
        for prompt in pack.prompts:
            if " ".join(prompt.prompt.split()) == shown:
                return prompt.truth, [prompt.truth, *prompt.alternates]
    raise AssertionError(f"prompt not in the built-in packs: {shown!r}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_chromium()
    db = tmp_path_factory.mktemp("e2e") / "weirsoe.db"
    port = free_port()
    srv = Server(
        port=port,
        env={
            "WEIRSOE_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "WEIRSOE_GRACE_SECONDS": "120",
            # Loopback only (tests), but said the way a LAN address would be: no warning banner.
            "WEIRSOE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        },
    )
    try:
        yield srv
    finally:
        srv.stop()


def shot(page: Any, name: str) -> None:
    save(page, ARTIFACTS, name)


def check_screen(page: Any, name: str) -> None:
    """The big screen in this phase: sizes, overlaps, and its screenshot."""
    shot(page, name)
    found = big_screen_problems(page)
    assert found["count"] > 3, (name, found)
    assert found["small"] == [], (name, found["small"])
    assert found["overlaps"] == [], (name, found["overlaps"])
    assert axe_violations(page) == [], name


def check_phone(page: Any, name: str) -> None:
    shot(page, name)
    assert phone_problems(page) == [], (name, phone_problems(page))
    assert axe_violations(page) == [], name


def check_page(page: Any, name: str) -> None:
    """Any other page (setup, landing, sign-in): its screenshot and axe."""
    shot(page, name)
    assert axe_violations(page) == [], name


def test_two_games_in_one_room_in_the_browser(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    expect.set_options(timeout=WAIT)
    watch = Watch()
    bots: list[SocketBot] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            play(browser, server, watch, expect, bots)
        finally:
            for bot in bots:
                bot.close()
            browser.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors
    assert [e for bot in bots for e in bot.errors] == []


def play(browser: Any, server: Server, watch: Watch, expect: Any, bots: list[SocketBot]) -> None:
    def context(width: int, height: int) -> Any:
        ctx = browser.new_context(
            base_url=server.base,
            viewport={"width": width, "height": height},
            reduced_motion="reduce",
        )
        ctx.set_default_timeout(WAIT)
        return ctx

    host = watch.attach(context(1920, 1080).new_page(), "host")
    phones = [watch.attach(context(360, 740).new_page(), f"p{i}") for i in range(1, 4)]
    ann, bob, cleo = phones
    # Provoked on purpose below: an unknown room, a taken name and a bad name.
    watch.expect(r"/api/sessions/[A-Z]{4}/players -> (404|409|422)")
    watch.expect(r"Failed to load resource: the server responded with a status of (404|409|422)")

    # -- the host opens a room with short timers through the settings form ----------------------
    host.goto("/host")
    host.check("#game-weirsoe_lies")
    host.click("details.settings summary")
    for key, value in SETTINGS.items():
        host.fill(f"#s-weirsoe_lies-{key}", value)
    check_page(host, "host-01-setup")
    host.click("#open-room")
    code = host.locator("#room-code").inner_text(timeout=WAIT).strip()
    assert re.fullmatch(r"[A-Z]{4}", code), code
    expect(host.locator("img.qr")).to_have_attribute("src", f"/api/sessions/{code}/qr.svg")
    # The QR image loaded. The predicate must be an arrow function: Playwright evals a bare
    # expression string again on every poll, and the page's CSP (no 'unsafe-eval') blocks that
    # eval once the first, CDP-driven check is over. A function is evaled once and then called.
    host.wait_for_function("() => document.querySelector('img.qr')?.naturalWidth > 0")

    # -- five socket players with 20-character names fill the room ------------------------------
    for i in range(len(LONG_NAMES)):
        bot = SocketBot(server.base, server.ws_base, code, i)
        bots.append(bot)
        bot.start()
    for bot in bots:
        assert bot.connected.wait(30), bot.name

    # -- three phones join by code, with inline errors on the way ------------------------------
    wrong = "BBBB" if code != "BBBB" else "CCCC"
    ann.goto("/")
    ann.fill("#code", wrong)
    ann.fill("#name", "Ann")
    ann.click("#join-btn")
    expect(ann.locator("#code-msg")).to_contain_text("No room with that code")
    check_phone(ann, "phone-01-unknown-room")
    ann.fill("#code", code)
    ann.click("#join-btn")
    ann.wait_for_url(f"**/play/{code}")

    bob.goto(f"/?code={code}")  # the QR code's link
    expect(bob.locator("#code")).to_have_value(code)
    bob.fill("#name", "ann")
    bob.click("#join-btn")
    expect(bob.locator("#name-msg")).to_contain_text("already has that name")
    bob.fill("#name", HOSTILE_NAME)
    bob.click("#join-btn")
    bob.wait_for_url(f"**/play/{code}")

    cleo.goto("/")
    cleo.fill("#code", code.lower())
    cleo.fill("#name", "Cleo")
    cleo.click("#join-btn")
    cleo.wait_for_url(f"**/play/{code}")

    lobby = host.locator("#lobby-players")
    expect(lobby.locator(".player.is-on")).to_have_count(8)
    expect(lobby).to_contain_text(HOSTILE_NAME)
    assert lobby.locator("svg, img").count() == 0
    expect(ann.locator("#lobby-players .player")).to_have_count(8)
    expect(ann.locator("#connection")).to_have_text("Connected")
    check_screen(host, "host-02-lobby")
    check_phone(bob, "phone-02-lobby")  # the longest name, with its "you" badge

    # == game 1: two rounds of one question ========================================================
    host.click("#ctl-play")
    expect(host.locator("#round-intro")).to_contain_text("Round 1")
    check_screen(host, "host-03-round-intro")
    prompt = host.locator(".lies-prompt")
    expect(prompt).to_be_visible()
    truth, spellings = truth_of(prompt.text_content() or "")
    expect(host.locator(".q-timer .ring")).to_be_visible()
    expect(host.locator(".topbar .ring")).to_be_hidden()  # the game shows its own countdown
    expect(host.locator(".done-chip.is-done[data-player]")).to_have_count(5)  # the bots
    check_screen(host, "host-04-lie")

    ann.fill("#lie-input", truth.upper())
    expect(ann.locator("#lie-count")).to_have_text(f"{len(truth)} / 60")
    ann.click("#lie-send")
    expect(ann.locator("#lie-error")).to_have_text("that's the truth — try a lie")
    check_phone(ann, "phone-03-lie-rejected")
    ann.fill("#lie-input", "a very suspicious otter")
    ann.click("#lie-send")
    expect(ann.locator("#my-lie")).to_have_text("a very suspicious otter")
    expect(host.locator(".done-chip.is-done[data-player]")).to_have_count(6)

    bob.click("#lie-for-me")
    expect(bob.locator("#my-lie")).to_be_visible()
    cleo.fill("#lie-input", HOSTILE_LIE)
    cleo.click("#lie-send")

    # -- guesses and reactions ----------------------------------------------------------------
    expect(host.locator(".answer-card")).to_have_count(9)  # the truth and eight lies
    expect(host.locator(".answer-grid")).to_contain_text(HOSTILE_LIE)
    check_screen(host, "host-05-guess")
    for phone in phones:
        expect(phone.locator(".answer-btn.is-own")).to_be_disabled()
    check_phone(bob, "phone-04-guess-long-answers")
    guess_truth(ann, spellings)
    ann.locator(".answer-btn", has_text=HOSTILE_LIE).click()  # react to Cleo's lie
    expect(ann.locator(".answer-btn.is-target")).to_contain_text(HOSTILE_LIE)
    ann.locator(".emoji-btn").first.click()
    expect(ann.locator("#react-left")).to_have_text("9 reactions left")
    expect(host.locator(".react-count")).to_have_count(1)
    check_phone(ann, "phone-04-guess")
    guess_other(cleo, spellings)
    guess_truth(bob, spellings)

    # -- the reveal, then the scores ---------------------------------------------------------------
    expect(host.locator(".spotlight .spot-text")).to_be_visible()
    check_screen(host, "host-06-reveal")
    check_phone(ann, "phone-05-reveal")
    expect(host.locator(".spot-verdict.is-truth")).to_be_visible()
    check_screen(host, "host-07-reveal-truth")
    expect(host.locator(".scoreboard")).to_be_visible()
    expect(host.locator(".score-row")).to_have_count(8)
    expect(ann.locator("#my-rank")).to_be_visible()
    check_phone(ann, "phone-06-scoreboard")
    check_screen(host, "host-08-scoreboard")

    # -- round 2 (double points): pause and resume, a reload in the middle ------------------------
    expect(host.locator("#round-intro")).to_contain_text("Double points ×2")
    check_screen(host, "host-09-round-2-intro")
    expect(host.locator(".q-row.big .lies-prompt")).to_be_visible()
    expect(host.locator(".mult-badge")).to_have_text("×2 points")
    expect(bob.locator("#lie-input")).to_be_visible()
    bob_score = bob.locator("#my-score").inner_text()
    assert int(re.sub(r"\D", "", bob_score)) >= 1000, bob_score  # found the truth in question 1
    host.click("#ctl-pause")
    expect(host.locator("#paused-banner")).to_be_visible()
    expect(ann.locator("#paused-banner")).to_be_visible()
    expect(host.locator(".q-timer .ring.is-paused")).to_be_visible()  # the countdown froze
    check_screen(host, "host-10-paused")
    ann.fill("#lie-input", "nope")
    ann.click("#lie-send")
    expect(ann.locator("#lie-error")).to_contain_text("paused")
    host.click("#ctl-resume")
    expect(host.locator("#paused-banner")).to_be_hidden()
    expect(ann.locator("#paused-banner")).to_be_hidden()

    bob.reload()
    expect(bob.locator("#me-name")).to_have_text(HOSTILE_NAME)
    expect(bob.locator("#my-score")).to_have_text(bob_score)
    expect(bob.locator("#lie-input")).to_be_visible()
    expect(host.locator("#strip-players .player.is-on")).to_have_count(8)

    _, spellings2 = truth_of(host.locator(".lies-prompt").text_content() or "")
    ann.fill("#lie-input", "a runaway accordion")
    ann.click("#lie-send")
    bob.click("#lie-for-me")
    cleo.fill("#lie-input", "forty-two penguins")
    cleo.click("#lie-send")
    expect(host.locator(".answer-card")).not_to_have_count(0)
    guess_truth(ann, spellings2)
    ann.locator(".emoji-btn").nth(1).click()
    expect(ann.locator("#react-left")).to_have_text("9 reactions left")
    guess_other(bob, spellings2)
    guess_other(cleo, spellings2)

    # -- the end: podium, awards, each phone's rank ------------------------------------------------
    expect(host.locator(".podium")).to_be_visible(timeout=40_000)
    expect(host.locator(".podium-step")).to_have_count(3)
    expect(host.locator(".award")).not_to_have_count(0)
    expect(host.locator(".award", has_text="Comedian")).to_contain_text("Cleo")
    expect(host.locator("#ctl-again")).to_be_visible()
    expect(host.locator("#ctl-new")).to_be_visible()
    assert host.locator(".podium svg, .awards svg, img[src='x']").count() == 0
    check_screen(host, "host-11-podium")
    for phone in phones:
        expect(phone.locator("#my-rank")).to_have_text(re.compile(r"^\d+(st|nd|rd|th)$"))
    check_phone(ann, "phone-07-over")
    expect(host.locator("#ctl-pause")).to_be_hidden()  # a finished game has nothing to pause

    # == "Same players", with one setting changed: every phone follows by itself =================
    host.click("#ctl-settings")
    expect(host.locator("#again-rounds")).to_have_value("2")  # this game's settings carry over
    expect(host.locator("#again-lie_seconds")).to_have_value("90")
    host.fill("#again-rounds", "1")
    shot(host, "host-12-again-settings")
    host.click("#again-settings-go")
    expect(host.locator("#again-settings")).to_be_hidden()
    expect(host.locator("#room-code")).to_have_text(code)  # the same room
    expect(host.locator("#lobby-players .player.is-on")).to_have_count(8)  # the same seats
    for phone in phones:
        expect(phone.locator("#lobby")).to_be_visible()
        expect(phone.locator("#stage")).to_be_hidden()
    expect(bob.locator("#me-name")).to_have_text(HOSTILE_NAME)
    check_screen(host, "host-13-lobby-again")
    check_phone(ann, "phone-08-lobby-again")

    # == game 2: one round =======================================================================
    host.click("#ctl-play")
    expect(host.locator("#round-intro")).to_contain_text("Round 1")
    expect(host.locator("#round-intro")).to_contain_text("of 1")
    for phone in phones:
        expect(phone.locator("#lie-input")).to_be_visible()
    _, spellings3 = truth_of(host.locator(".lies-prompt").text_content() or "")
    ann.fill("#lie-input", "a second suspicious otter")
    ann.click("#lie-send")
    bob.click("#lie-for-me")
    cleo.fill("#lie-input", "sixty-one penguins")
    cleo.click("#lie-send")
    guess_truth(ann, spellings3)
    guess_other(bob, spellings3)
    guess_other(cleo, spellings3)
    expect(host.locator(".podium")).to_be_visible(timeout=40_000)
    for phone in phones:
        expect(phone.locator("#my-rank")).to_have_text(re.compile(r"^\d+(st|nd|rd|th)$"))
    check_screen(host, "host-14-podium-again")
    assert all(bot.questions == 3 for bot in bots), [bot.questions for bot in bots]

    # -- "New players": a fresh room; the phones of the old one go home with a message ------------
    host.click("#ctl-new")
    ann.wait_for_url(re.compile(r"/\?notice=closed"))
    expect(ann.locator("#notice")).to_contain_text("ended")
    host.wait_for_url(re.compile(r"/host\?game=weirsoe_lies"))
    expect(host.locator("#game-weirsoe_lies")).to_be_checked()


def guess_truth(phone: Any, spellings: list[str]) -> None:
    wanted = {s.casefold() for s in spellings}
    phone.locator(".answer-btn").first.wait_for()  # the guess phase has reached this phone
    for button in phone.locator(".answer-btn:not([disabled])").all():
        text = (button.locator(".answer-text").text_content() or "").strip()
        if text.casefold() in wanted:
            button.click()
            # Locked in, or (the last guess) straight on to the reveal.
            phone.locator(".answer-btn.is-picked, .reveal-card").first.wait_for()
            return
    raise AssertionError("the truth is not among the answers")


def guess_other(phone: Any, spellings: list[str]) -> None:
    wanted = {s.casefold() for s in spellings}
    phone.locator(".answer-btn").first.wait_for()
    for button in phone.locator(".answer-btn:not([disabled])").all():
        text = (button.locator(".answer-text").text_content() or "").strip()
        if text.casefold() not in wanted:
            button.click()
            # Locked in, or (the last guess) straight on to the reveal.
            phone.locator(".answer-btn.is-picked, .reveal-card").first.wait_for()
            return
    raise AssertionError("no lie to pick")


def test_host_account_and_presets_in_the_browser(server: Server) -> None:
    """Register, keep a preset, open a room from it, edit and delete it, log out."""
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=WAIT)
    watch = Watch()
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            ctx = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
            page = watch.attach(ctx.new_page(), "host")
            # Provoked on purpose: a preset with too many rounds (422).
            watch.expect(r"POST \S+/api/presets -> 422")
            watch.expect(r"status of 422 \(Unprocessable Entity\) \(\S+/api/presets\)")
            page.goto("/login")
            expect(page.locator("#username")).to_be_visible()
            check_page(page, "login-01-signed-out")
            page.fill("#username", "e2e_host")
            page.fill("#password", "a long enough secret")
            page.click("#register")
            page.wait_for_url("**/host")
            expect(page.locator(".account")).to_contain_text("Logged in as e2e_host")
            expect(page.locator("#preset-room")).to_contain_text("No presets yet.")

            page.goto("/presets")
            page.click("#new-preset")
            page.fill("#preset-name", "Quick game")
            page.select_option("#preset-cartridge", "weirsoe_lies")
            page.fill("#p-rounds", "9")
            page.click("#preset-form button[type=submit]")
            expect(page.locator("#p-rounds")).to_have_attribute("aria-invalid", "true")
            page.fill("#p-rounds", "1")
            page.click("#preset-form button[type=submit]")
            expect(page.locator(".preset-name")).to_have_text(["Quick game"])
            page.click("button[aria-label='Edit Quick game']")
            expect(page.locator("#p-rounds")).to_have_value("1")
            page.fill("#preset-name", "Quick round")
            page.click("#preset-form button[type=submit]")
            expect(page.locator(".preset-name")).to_have_text(["Quick round"])
            check_page(page, "host-00-presets")

            page.goto("/host")
            expect(page.locator("#preset option")).to_have_text(["Quick round (weirsoe_lies)"])
            page.click("#preset-room button[type=submit]")
            expect(page.locator("#room-code")).to_have_text(re.compile(r"^[A-Z]{4}$"))
            expect(page.locator(".game-title")).to_have_text("Weirsøe Lies")
            page.click("#ctl-exit")
            page.click("#confirm-exit-yes")
            page.wait_for_url(re.compile(r"/host\?notice=ended"))

            page.goto("/presets")
            page.click("button[aria-label='Delete Quick round']")
            page.click("#confirm-delete button[value=delete]")
            expect(page.locator("main")).to_contain_text("No presets yet.")

            page.goto("/login")
            page.click("#logout")
            expect(page.locator("#username")).to_be_visible()
        finally:
            browser.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors


def test_cartridge_without_ui_plays_through_the_generic_view(server: Server) -> None:
    """``rps`` ships no UI: the big screen shows its view as JSON, phones send JSON actions."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT)
    watch = Watch()
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            host = watch.attach(
                browser.new_context(
                    base_url=server.base, viewport={"width": 1280, "height": 800}
                ).new_page(),
                "host",
            )
            host.goto("/host")
            host.check("#game-rps")
            host.click("details.settings summary")
            host.fill("#s-rps-rounds", "1")
            host.click("#open-room")
            code = host.locator("#room-code").inner_text().strip()
            phones = []
            for name in ("Rock", "Paper"):
                phone = watch.attach(
                    browser.new_context(
                        base_url=server.base, viewport={"width": 360, "height": 740}
                    ).new_page(),
                    name,
                )
                phone.goto(f"/?code={code}")
                phone.fill("#name", name)
                phone.click("#join-btn")
                phone.wait_for_url(f"**/play/{code}")
                phones.append(phone)
            expect(host.locator("#lobby-players .player.is-on")).to_have_count(2)
            host.click("#ctl-play")
            expect(host.locator(".generic-view")).to_contain_text('"round": 1')
            expect(host.locator(".topbar .ring")).to_be_visible()  # the shell's own countdown
            for phone, move in zip(phones, ("rock", "paper"), strict=True):
                box = phone.locator("#generic-action")
                box.fill('{"type": "throw", "move": "nope"}')
                phone.click(".generic-action button")
                expect(phone.locator(".generic-action .field-msg")).to_contain_text("move")
                box.fill(f'{{"type": "throw", "move": "{move}"}}')
                phone.click(".generic-action button")
                expect(phone.locator(".generic-action .field-msg")).to_contain_text("Sent")
            expect(host.locator(".generic-log")).to_contain_text("rps.finished")
            expect(host.locator("#ctl-new")).to_be_visible()
            shot(host, "host-10-generic-view")
        finally:
            browser.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.errors == [], watch.errors


def test_the_page_checks_can_fail(server: Server) -> None:
    """The checkers above catch what they are for: small and overlapping text, sideways
    overflow, and an axe violation (here an image without alt text)."""
    from playwright.sync_api import sync_playwright

    html = (
        "<html lang='en'><head><title>t</title></head><body><main><h1>Checks</h1>"
        "<p style='font-size:12px'>tiny</p>"
        "<p style='position:absolute;top:200px;left:0;font-size:40px'>one</p>"
        "<p style='position:absolute;top:205px;left:10px;font-size:40px'>two</p>"
        "<img src='/static/icon.svg'><div style='width:900px'>wide</div></main></body></html>"
    )
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(  # our inline styles here: only this test page skips CSP
                base_url=server.base, viewport={"width": 360, "height": 740}, bypass_csp=True
            )
            page.goto("/")  # same origin, so the image loads
            page.set_content(html)
            found = big_screen_problems(page)
            assert any("tiny" in s for s in found["small"]), found
            assert any('"one"' in o and '"two"' in o for o in found["overlaps"]), found
            assert any("sideways" in p for p in phone_problems(page))
            assert any(v.startswith("image-alt") for v in axe_violations(page))
        finally:
            browser.close()


def test_browser_waits_survive_the_pages_csp() -> None:
    """Our pages forbid 'unsafe-eval'. Playwright re-evals a bare ``wait_for_function`` expression
    on every poll, which that CSP blocks, so such a wait passes only when its first check is already
    true (and failed CI once). Every predicate in the browser tests must be a function."""
    bare = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = re.search(r"wait_for_function\(\s*(['\"])(.*)", line)
            if found and not re.match(r"\s*(\(|function\b|\w+\s*=>)", found.group(2)):
                bare.append(f"{path.name}:{number}: {line.strip()}")
    assert bare == [], "use an arrow function predicate:\n" + "\n".join(bare)
