"""The events of Weirsøe Lies. Their wire names are part of the public contract."""

from __future__ import annotations

import msgspec

from weirsoe_sdk import Event

__all__ = [
    "EVENTS",
    "AnswerOption",
    "AudienceShare",
    "Award",
    "GameEnded",
    "GuessStarted",
    "GuessSubmitted",
    "LieAccepted",
    "LieStarted",
    "LieSubmitted",
    "QuestionResult",
    "QuestionShown",
    "RankEntry",
    "ReactionSent",
    "RevealStep",
    "RevealedAnswer",
    "Scoreboard",
    "ScoresCalculated",
]


class AnswerOption(msgspec.Struct, frozen=True):
    id: str
    text: str


class RevealedAnswer(msgspec.Struct, frozen=True):
    id: str
    text: str
    truth: bool
    house: bool
    authors: list[str]


class AudienceShare(msgspec.Struct, frozen=True):
    """How the audience voted on one answer: ``votes`` of ``total``, ``share`` in 0..1, and
    whether it was the audience's pick (the answer most of them chose)."""

    votes: int
    total: int
    share: float
    pick: bool


class RankEntry(msgspec.Struct, frozen=True):
    player_id: str
    name: str
    score: int
    rank: int
    delta: int = 0


class Award(msgspec.Struct, frozen=True):
    key: str
    title: str
    winners: list[str]
    value: int
    emoji: str | None = None


class QuestionResult(msgspec.Struct, frozen=True):
    question: int
    round: int
    multiplier: int
    prompt_id: str
    deltas: dict[str, int]


class QuestionShown(Event, tag="phase.question_shown", frozen=True):
    round: int
    rounds: int
    question: int
    questions: int
    multiplier: int
    category: str


class LieStarted(Event, tag="phase.lie_started", frozen=True):
    prompt: str
    deadline: float | None  # null while the game is paused
    max_length: int


class LieSubmitted(Event, tag="lie.submitted", frozen=True):
    """Someone has a lie in (never its text)."""

    player_id: str


class LieAccepted(Event, tag="lie.accepted", frozen=True):
    """To the author only: the lie as stored."""

    text: str
    lie_for_me: bool


class GuessStarted(Event, tag="phase.guess_started", frozen=True):
    answers: list[AnswerOption]
    deadline: float | None  # null while the game is paused
    yours: str | None = None


class GuessSubmitted(Event, tag="guess.submitted", frozen=True):
    player_id: str


class ReactionSent(Event, tag="reaction.sent", frozen=True):
    player_id: str
    answer_id: str
    emoji: str


class RevealStep(Event, tag="reveal.step", frozen=True):
    index: int
    total: int
    answer: RevealedAnswer
    pickers: list[str]
    points: dict[str, int]
    scores: dict[str, int]
    deadline: float | None  # null while the game is paused
    audience: AudienceShare | None = None


class ScoresCalculated(Event, tag="phase.scores_calculated", frozen=True):
    question: int
    deltas: dict[str, int]
    scores: dict[str, int]


class Scoreboard(Event, tag="phase.scoreboard", frozen=True):
    ranking: list[RankEntry]
    deadline: float | None  # null while the game is paused
    last: bool


class GameEnded(Event, tag="phase.game_over", frozen=True):
    ranking: list[RankEntry]
    awards: list[Award]
    questions: list[QuestionResult]


EVENTS: tuple[type[Event], ...] = (
    QuestionShown,
    LieStarted,
    LieSubmitted,
    LieAccepted,
    GuessStarted,
    GuessSubmitted,
    ReactionSent,
    RevealStep,
    ScoresCalculated,
    Scoreboard,
    GameEnded,
)
