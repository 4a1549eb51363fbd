"""The game state of Weirsøe Lies: plain data, serialisable with msgspec."""

from __future__ import annotations

from typing import Literal

import msgspec

from .events import QuestionResult

__all__ = ["Answer", "Card", "Lie", "LiesState", "Phase", "Stats"]

Phase = Literal["lie", "guess", "reveal", "scoreboard", "over"]


class Card(msgspec.Struct, frozen=True):
    """One question as dealt: a copy of the prompt, so packs may change under a running game."""

    prompt_id: str
    prompt: str
    truth: str
    alternates: list[str]
    house_lies: list[str]
    category: str
    round: int
    multiplier: int


class Lie(msgspec.Struct):
    text: str
    lie_for_me: bool = False


class Answer(msgspec.Struct):
    id: str
    text: str
    truth: bool = False
    authors: list[str] = []
    half: list[str] = []  # authors who took it from "lie for me", and earn half

    @property
    def house(self) -> bool:
        return not self.truth and not self.authors


class Stats(msgspec.Struct):
    fooled: int = 0
    truths: int = 0
    reactions: dict[str, int] = {}
    audience: int = 0  # audience reactions to this player's lies


class LiesState(msgspec.Struct, kw_only=True):
    phase: Phase
    cards: list[Card]
    index: int = 0
    lies: dict[str, Lie] = {}
    answers: list[Answer] = []
    guesses: dict[str, str] = {}
    reactions_used: dict[str, int] = {}
    revealed: int = 0
    reveal_order: list[str] = []
    reveal_log: list[dict[str, object]] = []
    scores: dict[str, int] = {}
    deltas: dict[str, int] = {}
    history: list[QuestionResult] = []
    stats: dict[str, Stats] = {}
    crowd: dict[str, int] = {}  # the audience's truth votes per answer id, this question
    crowd_pick: str | None = None  # the answer the audience picked, as one extra player

    @property
    def card(self) -> Card:
        return self.cards[self.index]

    def answer(self, answer_id: str) -> Answer | None:
        for answer in self.answers:
            if answer.id == answer_id:
                return answer
        return None
