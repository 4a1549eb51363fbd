"""The views each role of Weirsøe Quips receives (in snapshots), as msgspec types.

The driver builds views as plain data (``views.py``); these types describe them for the AsyncAPI
document, and the contract tests convert every view of recorded games into them, so a field the
driver sends but this module does not describe fails a test.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from weirsoe_sdk import ViewTypes

from .events import QuipsAnswerOption, QuipsAward, QuipsRankEntry, ResultAnswer
from .state import Phase

__all__ = [
    "VIEWS",
    "QuipsFaceOffView",
    "QuipsMeView",
    "QuipsPlayerView",
    "QuipsPromptView",
    "QuipsResultView",
    "QuipsView",
]


class QuipsFaceOffView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The face-off on screen (``vote``, ``final_vote``). Authors stay hidden until the result."""

    index: int  # 1-based
    count: int
    prompt: str
    category: str
    answers: list[QuipsAnswerOption]


class QuipsResultView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The last face-off's public result (``result``), as in ``weirsoe_quips.faceoff_result``."""

    index: int
    count: int
    prompt: str
    answers: list[ResultAnswer]
    forfeit: bool
    jinx: bool
    final: bool


class QuipsPromptView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One prompt dealt to this player, with their answer so far (``write``)."""

    id: str
    prompt: str
    category: str
    answer: str | None
    answer_for_me: bool


class QuipsMeView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a player knows about their own part. Optional fields appear only in the phases
    named in their comment."""

    id: str
    score: int
    reactions_left: int
    prompts: list[QuipsPromptView] | UnsetType = UNSET  # write
    yours: str | UnsetType = UNSET  # vote, final_vote: your answer's id, when one is on screen
    can_vote: bool | UnsetType = UNSET  # vote, final_vote
    my_vote: str | UnsetType = UNSET  # vote, once voted
    my_votes: list[str] | UnsetType = UNSET  # final_vote, once voted
    rank: int | UnsetType = UNSET  # scoreboard, over


class QuipsView(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The host screen's and the audience's view. Optional fields appear only in the phases
    named in their comment."""

    phase: Phase
    round: int
    rounds: int
    multiplier: int
    final: bool
    emoji: list[str]
    reaction_cap: int
    max_length: int
    scores: dict[str, int]
    done: list[str] | UnsetType = UNSET  # write: players who answered all their prompts
    prompt: str | UnsetType = UNSET  # write, in the final round (everyone gets the same prompt)
    faceoff: QuipsFaceOffView | UnsetType = UNSET  # vote, final_vote
    voted: list[str] | UnsetType = UNSET  # vote, final_vote
    voters: list[str] | UnsetType = UNSET  # vote, final_vote: who may vote
    votes_each: int | UnsetType = UNSET  # vote, final_vote
    result: QuipsResultView | UnsetType = UNSET  # result
    ranking: list[QuipsRankEntry] | UnsetType = UNSET  # scoreboard, over
    deltas: dict[str, int] | UnsetType = UNSET  # scoreboard, over
    awards: list[QuipsAward] | UnsetType = UNSET  # over


class QuipsPlayerView(QuipsView, kw_only=True, forbid_unknown_fields=True):
    """A player's view: the room's view plus ``me``."""

    me: QuipsMeView


VIEWS = ViewTypes(host=QuipsView, player=QuipsPlayerView, audience=QuipsView)
