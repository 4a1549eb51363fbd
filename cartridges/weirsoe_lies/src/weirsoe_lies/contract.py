"""The published contract of Weirsøe Lies besides its actions and events: the views each role
receives (in snapshots) and the error codes the game sends.

The driver builds views as plain data (``views.py``); these types describe them for the AsyncAPI
document, and the contract tests convert every view of recorded games into them, so a field the
driver sends but this module does not describe fails a test.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from weirsoe_sdk import ViewTypes

from .events import AnswerOption, Award, QuestionResult, RankEntry, RevealStep

__all__ = ["ERRORS", "VIEWS", "LiesPlayerView", "LiesView", "MeView"]

Phase = Literal["lie", "guess", "reveal", "scoreboard", "over"]


class MeView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a player knows about their own part."""

    id: str
    lie: str | None
    lie_for_me: bool
    guess: str | None
    reactions_left: int
    score: int
    yours: str | None = None  # the answer id of your own lie, once answers are out
    rank: int | None = None  # from the first scoreboard on; null before


class LiesView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The host screen's and the audience's view. Fields marked optional appear only in the
    phases named in their comment."""

    phase: Phase
    round: int
    rounds: int
    question: int
    questions: int
    multiplier: int
    category: str
    prompt: str
    max_length: int
    emoji: list[str]
    reaction_cap: int
    scores: dict[str, int]
    submitted: list[str] | UnsetType = UNSET  # lie
    answers: list[AnswerOption] | UnsetType = UNSET  # guess, reveal, scoreboard
    guessed: list[str] | UnsetType = UNSET  # guess
    reveal: list[RevealStep] | UnsetType = UNSET  # reveal, scoreboard
    ranking: list[RankEntry] | UnsetType = UNSET  # scoreboard, over
    deltas: dict[str, int] | UnsetType = UNSET  # scoreboard
    awards: list[Award] | UnsetType = UNSET  # over
    history: list[QuestionResult] | UnsetType = UNSET  # over


class LiesPlayerView(LiesView, kw_only=True, forbid_unknown_fields=True):
    """A player's view: the room's view plus ``me``."""

    me: MeView


VIEWS = ViewTypes(host=LiesView, player=LiesPlayerView, audience=LiesView)

ERRORS: dict[str, str] = {
    "already_guessed": "Your guess is final.",
    "bad_emoji": "Pick one of the offered reactions (the view's `emoji`).",
    "lie_empty": "Write a lie with some letters or numbers.",
    "lie_is_truth": "That is (close to) the truth; write a lie.",
    "lie_profane": "Family mode: keep the lie family-friendly.",
    "lie_too_long": "The lie is longer than the room's `max_length`.",
    "name_profane": "Family mode: pick a family-friendly name (join, HTTP 409).",
    "own_answer": "You cannot pick your own lie.",
    "reaction_cap": "No reactions left in this phase (the view's `me.reactions_left`).",
    "unknown_answer": "No answer with that id in this question.",
}
