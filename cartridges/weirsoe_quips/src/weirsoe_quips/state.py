"""The game state of Weirsøe Quips: plain data, serialisable with msgspec."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["Entry", "Matchup", "Phase", "QuipsState", "Stats"]

Phase = Literal["write", "vote", "result", "final_vote", "scoreboard", "over"]
FINAL_ROUND = 3


class Matchup(msgspec.Struct):
    """One prompt as dealt: to two players in rounds 1-2, to everyone in the final."""

    id: str
    prompt_id: str
    prompt: str
    category: str
    players: list[str]
    house: list[str]


class Entry(msgspec.Struct):
    """One written answer. ``id`` is random, so it says nothing about its author."""

    id: str
    author: str
    text: str
    house: bool = False  # from "answer for me": half points


class Stats(msgspec.Struct):
    votes: int = 0
    sweeps: int = 0
    reactions: dict[str, int] = {}


class QuipsState(msgspec.Struct, kw_only=True):
    phase: Phase
    round: int = 1
    matchups: list[Matchup] = []
    entries: dict[str, dict[str, Entry]] = {}  # matchup id -> author -> entry
    index: int = 0  # the face-off on screen
    order: list[str] = []  # the current face-off's answer ids, in display order
    votes: dict[str, str] = {}  # voter -> answer id (current face-off)
    final_votes: dict[str, list[str]] = {}
    result: dict[str, object] | None = None  # the last face-off's public result
    crowd: dict[str, int] = {}  # the audience's final counts for the answers on screen
    reactions_used: dict[str, int] = {}
    used_prompts: list[str] = []
    pairs_seen: list[list[str]] = []
    scores: dict[str, int] = {}
    deltas: dict[str, int] = {}
    stats: dict[str, Stats] = {}

    @property
    def final(self) -> bool:
        return self.round == FINAL_ROUND

    @property
    def matchup(self) -> Matchup:
        return self.matchups[self.index]

    def finished_writing(self) -> set[str]:
        """Players who have answered every prompt dealt to them."""
        mine: dict[str, int] = {}
        done: dict[str, int] = {}
        for m in self.matchups:
            for pid in m.players:
                mine[pid] = mine.get(pid, 0) + 1
                if pid in self.entries.get(m.id, {}):
                    done[pid] = done.get(pid, 0) + 1
        return {pid for pid, n in mine.items() if done.get(pid, 0) >= n}

    def shown(self) -> list[Entry]:
        """The answers on screen now, in display order."""
        by_id = {e.id: e for e in self.entries.get(self.matchup.id, {}).values()}
        return [by_id[i] for i in self.order if i in by_id]

    def entry(self, answer_id: str) -> Entry | None:
        return next((e for e in self.shown() if e.id == answer_id), None)
