"""Registers Weirsøe Quips with the platform (entry point ``weirsoe.cartridges``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from weirsoe_sdk import Cartridge, hookimpl

from .audience import TALLIES
from .bot import QuipsBot
from .content import load_packs
from .contract import VIEWS
from .driver import QuipsDriver
from .events import EVENTS
from .settings import QuipsSettings
from .state import QuipsState

__all__ = ["make_cartridge", "weirsoe_register_cartridges"]


def make_cartridge(content_dir: Path | None = None) -> Cartridge:
    """The cartridge, with the built-in packs plus ``content_dir/weirsoe_quips/*.json``."""
    from . import INFO

    extra = [content_dir / INFO.slug] if content_dir and (content_dir / INFO.slug).is_dir() else []
    driver = QuipsDriver(load_packs(extra))
    return Cartridge(
        info=INFO,
        driver=driver,
        settings_type=QuipsSettings,
        state_type=QuipsState,
        events=EVENTS,
        bot=QuipsBot(),
        ui_dir=Path(__file__).parent / "ui",
        check_settings=driver.check_settings,
        tallies=TALLIES,
        errors=ERRORS,
        view_types=VIEWS,
    )


# Every code the game raises, for the error table (docs/errors.md; a test checks the list).
ERRORS: dict[str, str] = {
    "already_voted": "Your vote is final.",
    "answer_empty": "Write an answer first.",
    "answer_profane": "Family mode: keep the answer family-friendly.",
    "answer_too_long": "The answer is longer than the room's `max_length`.",
    "bad_emoji": "Pick one of the offered reactions (the view's `emoji`).",
    "name_profane": "Family mode: pick a family-friendly name (join, HTTP 409).",
    "own_answer": "You cannot vote for your own answer.",
    "own_faceoff": "You cannot vote on a face-off of your own prompt.",
    "reaction_cap": "No reactions left for now.",
    "unknown_answer": "No answer with that id.",
    "unknown_prompt": "That is not one of your prompts.",
    "vote_count": "In the final round, spend exactly the given number of votes.",
}


@hookimpl
def weirsoe_register_cartridges(config: dict[str, Any]) -> Iterable[Cartridge]:
    folder = config.get("content_dir")
    return [make_cartridge(Path(folder) if folder else None)]
