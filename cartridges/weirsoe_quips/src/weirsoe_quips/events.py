"""The events of Weirsøe Quips. Their wire names are part of the public contract."""

from __future__ import annotations

import msgspec

from weirsoe_sdk import Event

__all__ = [
    "EVENTS",
    "AnswerAccepted",
    "FaceOffResult",
    "FaceOffStarted",
    "FinalVoteStarted",
    "PlayerDone",
    "PromptCard",
    "PromptsDealt",
    "QuipsAnswerOption",
    "QuipsAward",
    "QuipsGameEnded",
    "QuipsRankEntry",
    "QuipsReactionSent",
    "QuipsScoreboard",
    "ResultAnswer",
    "VoteCast",
    "WritingStarted",
]


class QuipsAnswerOption(msgspec.Struct, frozen=True):
    id: str
    text: str


class PromptCard(msgspec.Struct, frozen=True):
    id: str
    prompt: str
    category: str


class ResultAnswer(msgspec.Struct, frozen=True):
    id: str
    text: str
    author: str
    votes: int
    points: int
    house: bool = False
    jinx: bool = False
    sweep: bool = False


class QuipsRankEntry(msgspec.Struct, frozen=True):
    player_id: str
    name: str
    score: int
    rank: int
    delta: int = 0


class QuipsAward(msgspec.Struct, frozen=True):
    key: str
    title: str
    winners: list[str]
    value: int
    emoji: str | None = None


class WritingStarted(Event, tag="weirsoe_quips.writing_started", frozen=True):
    """A round's writing began. The final round's one prompt is public."""

    round: int
    multiplier: int
    deadline: float
    final_prompt: str | None = None


class PromptsDealt(Event, tag="weirsoe_quips.prompts_dealt", frozen=True):
    """Sent to one player only: the prompts they must answer."""

    prompts: list[PromptCard]


class AnswerAccepted(Event, tag="weirsoe_quips.answer_accepted", frozen=True):
    """Sent to the author only."""

    prompt: str
    text: str
    answer_for_me: bool


class PlayerDone(Event, tag="weirsoe_quips.player_done", frozen=True):
    """A player has answered every prompt dealt to them (never what they wrote)."""

    player_id: str


class FaceOffStarted(Event, tag="weirsoe_quips.faceoff_started", frozen=True):
    index: int
    count: int
    prompt: str
    answers: list[QuipsAnswerOption]
    deadline: float


class VoteCast(Event, tag="weirsoe_quips.vote_cast", frozen=True):
    """Someone voted; never for what."""

    player_id: str


class FinalVoteStarted(Event, tag="weirsoe_quips.final_vote_started", frozen=True):
    prompt: str
    answers: list[QuipsAnswerOption]
    votes: int
    deadline: float


class FaceOffResult(Event, tag="weirsoe_quips.faceoff_result", frozen=True):
    """The vote is over: the authors, the vote counts and the points."""

    index: int
    count: int
    prompt: str
    answers: list[ResultAnswer]
    forfeit: bool
    jinx: bool
    final: bool
    deadline: float


class QuipsReactionSent(Event, tag="weirsoe_quips.reaction_sent", frozen=True):
    player_id: str
    answer_id: str
    emoji: str


class QuipsScoreboard(Event, tag="weirsoe_quips.scoreboard", frozen=True):
    round: int
    ranking: list[QuipsRankEntry]
    deadline: float
    last: bool


class QuipsGameEnded(Event, tag="weirsoe_quips.game_over", frozen=True):
    ranking: list[QuipsRankEntry]
    awards: list[QuipsAward]


EVENTS: tuple[type[Event], ...] = (
    WritingStarted,
    PromptsDealt,
    AnswerAccepted,
    PlayerDone,
    FaceOffStarted,
    VoteCast,
    FinalVoteStarted,
    FaceOffResult,
    QuipsReactionSent,
    QuipsScoreboard,
    QuipsGameEnded,
)
