"""What the browser tests measure on every screen: text size and overlaps on the big screen,
sideways overflow and wrapping on phones, console errors and failed requests on every page, and
socket bots that fill the room with long names and long answers."""

from __future__ import annotations

import json
import re
import threading
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "AXE_TAGS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LONG_NAMES",
    "SocketBot",
    "Watch",
    "axe_violations",
    "big_screen_problems",
    "launch_chromium",
    "long_lie",
    "need_chromium",
    "phone_problems",
    "save",
]

# Debian's Chromium (browser downloads fail on these machines), with the flags that keep it off
# the network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def need_chromium() -> None:
    """Skip the calling test, with the reason, where Chromium or Playwright is missing."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def launch_chromium(pw: Any) -> Any:
    """A headless Debian Chromium from a Playwright instance."""
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


MIN_BIG_SCREEN_PX = 28  # from the sofa, at 1920x1080
# 20 characters each: the longest name the platform accepts.
LONG_NAMES = [
    "Bartholomew Q. Smyth",
    "Wilhelmina Ashcrofts",
    "Maximiliano Ferreira",
    "Anastasia Kowalczyks",
    "Christopher Lundgren",
]
WORDS = ["otter", "teapot", "glacier", "accordion", "lighthouse", "pretzel"]

# Not read by players: the host's own buttons and status, dialogs the host fills in, the
# decorative wordmark, screen-reader-only text and the skip link.
_SIZE_EXEMPT = [".topbar .controls", "dialog", ".wordmark", ".sr-only", ".skip"]
# Drawn over everything on purpose: the pause overlay and floating reactions.
_OVERLAP_EXEMPT = [".paused-banner", ".reaction-layer", ".sr-only", ".skip", "dialog"]

_TEXT_BOXES = """
(opts) => {
  const skip = (e, list) => list.length && e.closest(list.join(","));
  const clip = (r, c) => {
    const left = Math.max(r.left, c.left), right = Math.min(r.right, c.right);
    const top = Math.max(r.top, c.top), bottom = Math.min(r.bottom, c.bottom);
    return right - left > 0.5 && bottom - top > 0.5 ? { left, right, top, bottom } : null;
  };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (e.classList.length ? "." + [...e.classList].join(".") : "");
  const boxes = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const text = node.textContent.trim();
    const e = node.parentElement;
    if (!text || !e || e.closest("script, style, noscript")) continue;
    if (!e.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    let rects = [...range.getClientRects()].map((r) => clip(r, r)).filter(Boolean);
    for (let a = e; a && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== "visible" || s.overflowY !== "visible") {
        const c = a.getBoundingClientRect();
        rects = rects.map((r) => clip(r, c)).filter(Boolean);
      }
    }
    if (!rects.length) continue;
    boxes.push({ e, text: text.slice(0, 40), where: name(e),
      size: parseFloat(getComputedStyle(e).fontSize), rects,
      sizeExempt: Boolean(skip(e, opts.sizeExempt)),
      overlapExempt: Boolean(skip(e, opts.overlapExempt)) });
  }
  const small = boxes.filter((b) => !b.sizeExempt && b.size < opts.minPx - 0.01)
    .map((b) => `${b.size}px "${b.text}" in ${b.where}`);
  const overlaps = [];
  const live = boxes.filter((b) => !b.overlapExempt);
  for (let i = 0; i < live.length; i++) {
    for (let j = i + 1; j < live.length; j++) {
      const a = live[i], b = live[j];
      if (a.e === b.e) continue;
      const hit = a.rects.some((r) => b.rects.some((q) =>
        Math.min(r.right, q.right) - Math.max(r.left, q.left) > 3 &&
        Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top) > 3));
      if (hit) overlaps.push(`"${a.text}" (${a.where}) overlaps "${b.text}" (${b.where})`);
    }
  }
  return { small, overlaps, count: boxes.length };
}
"""

_PHONE = """
() => {
  const out = [];
  const width = document.documentElement.clientWidth;
  const scrolled = document.documentElement.scrollWidth;
  if (scrolled > width) out.push(`the page scrolls sideways (${scrolled} > ${width})`);
  for (const e of document.querySelectorAll("body *")) {
    if (e.closest(".sr-only, .skip, script, style") || !e.checkVisibility()) continue;
    const r = e.getBoundingClientRect();
    if (r.width && (r.right > width + 0.5 || r.left < -0.5)) {
      const what = `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`;
      out.push(`${what} sticks out (${Math.round(r.left)}..${Math.round(r.right)})`);
    }
  }
  // Badges, pills, buttons and scores stay on one line.
  const oneLine = ".tag, .pill, .room-tag, .btn, .my-score, .char-count, .emoji-btn";
  for (const e of document.querySelectorAll(oneLine)) {
    if (!e.checkVisibility() || !e.textContent.trim()) continue;
    // Boxes that share no vertical span are on different lines (mixed font sizes share one).
    const rects = [];
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest(".sr-only")) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      rects.push(...[...range.getClientRects()].filter((r) => r.width > 0.5));
    }
    rects.sort((a, b) => a.top - b.top);
    let lines = 0;
    let bottom = -Infinity;
    for (const r of rects) {
      if (r.top < bottom - 2) bottom = Math.max(bottom, r.bottom);
      else { lines += 1; bottom = r.bottom; }
    }
    if (lines > 1) out.push(`"${e.textContent.trim()}" wraps onto ${lines} lines`);
  }
  return out;
}
"""


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
_AXE_RUN = """
async (tags) => {
  const options = { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] };
  const result = await axe.run(document, options);
  const where = (v) => v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ");
  return result.violations.map((v) => `${v.id}: ${v.help} at ${where(v)}`);
}
"""


@cache
def _axe_source() -> str:
    """axe-core, vendored by the axe-playwright-python package from PyPI: nothing is fetched."""
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[str]:
    """axe-core on the page as it is now, with the WCAG 2.1 A/AA and best-practice rules.
    Injected through the DevTools protocol, so the page's CSP stays as strict as ever."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(_axe_source())
    found: list[str] = page.evaluate(_AXE_RUN, AXE_TAGS)
    return found


# Entrance animations (the round intro's "stamp" scales its text) overlap boxes while they run:
# measure the screen as it settles, not a frame of the animation. Endless ones are left running,
# and so is the timer ring: each tick starts a new 0.2 s transition of its stroke, so on a busy
# machine a moment with none running can take longer than the wait (it moves no text). A
# function, not a bare expression: the pages' CSP forbids re-evaluated strings.
_SETTLED = """() => document.getAnimations().every(
  (a) => a.playState !== "running" || a.effect.getComputedTiming().iterations === Infinity
    || (a.effect.target instanceof Element && a.effect.target.classList.contains("ring-bar")))"""


def big_screen_problems(page: Any) -> dict[str, Any]:
    """Text under 28 px that players read, and text that overlaps other text, once the screen's
    finite animations have finished."""
    page.wait_for_function(_SETTLED, timeout=10_000)
    result: dict[str, Any] = page.evaluate(
        _TEXT_BOXES,
        {
            "minPx": MIN_BIG_SCREEN_PX,
            "sizeExempt": _SIZE_EXEMPT,
            "overlapExempt": _OVERLAP_EXEMPT,
        },
    )
    return result


def phone_problems(page: Any) -> list[str]:
    """Anything that overflows the phone's width, and badges or buttons that wrap."""
    result: list[str] = page.evaluate(_PHONE)
    return result


def long_lie(index: int, question: int) -> str:
    """A 60-character answer (the longest allowed), different for every bot and question."""
    word = WORDS[index % len(WORDS)]
    text = f"the {word} of question {question} wore a disguise, said bot {index}"
    return text.ljust(60, ".")[:60]


class Watch:
    """What must never happen on a page: dialogs (an XSS would alert), JS errors, console
    errors and failed requests, except the ones a test names (a deliberate 404, say)."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        # Named for every page: a request the browser cancels because the page moved on
        # (a navigation right after a click) is not a failure.
        self.expected: list[re.Pattern[str]] = [re.compile(r" failed: net::ERR_ABORTED$")]

    def expect(self, pattern: str) -> None:
        """A console error or failed response that the test provokes on purpose."""
        self.expected.append(re.compile(pattern))

    def _note(self, text: str) -> None:
        if not any(p.search(text) for p in self.expected):
            self.errors.append(text)

    def attach(self, page: Any, who: str) -> Any:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{who}: {dialog.type} {dialog.message}")
            dialog.dismiss()

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                location = msg.location.get("url", "") if msg.location else ""
                self._note(f"{who}: console error: {msg.text} ({location})")

        def on_response(response: Any) -> None:
            if response.status >= 400:
                request = response.request
                self._note(f"{who}: {request.method} {response.url} -> {response.status}")

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(f"{who}: {exc}"))
        page.on("console", on_console)
        page.on("response", on_response)
        page.on(
            "requestfailed",
            lambda r: self._note(f"{who}: {r.method} {r.url} failed: {r.failure}"),
        )
        return page


class SocketBot(threading.Thread):
    """A player on a real WebSocket that writes a 60-character lie and guesses at once, in
    every question of every game in the room (so the big screen is as full as it gets)."""

    def __init__(self, base: str, ws_base: str, code: str, index: int) -> None:
        super().__init__(daemon=True, name=f"bot-{index}")
        self.index = index
        self.name = LONG_NAMES[index]
        joined = httpx.post(
            f"{base}/api/sessions/{code}/players", json={"name": self.name}, timeout=20
        )
        joined.raise_for_status()
        self.player_id = joined.json()["player_id"]
        self.url = f"{ws_base}/ws/game/{code}?token={joined.json()['token']}"
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.errors: list[dict[str, Any]] = []
        self.questions = 0

    def run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        with connect(self.url, open_timeout=30, origin=None) as ws:
            self.connected.set()
            while not self.stop.is_set():
                try:
                    msg = json.loads(ws.recv(timeout=0.3))
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return
                self._on(ws, msg)

    def _on(self, ws: Any, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "error":
            self.errors.append(msg)
        elif kind == "phase.lie_started":
            self.questions += 1
            lie = long_lie(self.index, self.questions)
            ws.send(self._action({"type": "lie", "text": lie}, "l"))
        elif kind == "phase.guess_started":
            yours = msg.get("yours")
            pick = next(a["id"] for a in msg["answers"] if a["id"] != yours)
            ws.send(self._action({"type": "guess", "answer_id": pick}, "g"))

    def _action(self, action: dict[str, Any], tag: str) -> str:
        ident = f"{self.player_id}-{tag}{self.questions}"
        return json.dumps({"type": "action", "id": ident, "action": action})

    def close(self) -> None:
        self.stop.set()
        self.join(5)


def save(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"))
