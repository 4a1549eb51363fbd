"""A bot that plays Weirsøe Quips from its own view, for the harness and load tests."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["QuipsBot"]


class QuipsBot:
    """Writes traceable answers, sometimes asks for one, sometimes stays silent; votes at
    random among the answers that are not its own; reacts now and then."""

    def __init__(
        self,
        *,
        silent: float = 0.08,
        answer_for_me: float = 0.15,
        react: float = 0.2,
        phases: frozenset[str] = frozenset({"write", "vote", "final_vote"}),
    ) -> None:
        self.phases = phases
        self.silent = silent
        self.answer_for_me = answer_for_me
        self.react = react

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        phase = view.get("phase")
        mine = view.get("me") or {}
        if phase == "write":
            for prompt in mine.get("prompts", []):
                # Whether it sits this prompt out is fixed per prompt, so asking again is safe.
                mood = zlib.crc32(f"{me}:{view.get('round')}:{prompt['id']}".encode()) / 2**32
                if prompt["answer"] is None and mood >= self.silent:
                    if mood < self.silent + self.answer_for_me:
                        return {"type": "answer_for_me", "prompt": prompt["id"]}
                    return {"type": "answer", "prompt": prompt["id"], "text": canary()}
            return None
        faceoff = view.get("faceoff") or {}
        options = [a["id"] for a in faceoff.get("answers", []) if a["id"] != mine.get("yours")]
        if not options or not mine.get("can_vote"):
            return None
        if mine.get("reactions_left", 0) > view.get("reaction_cap", 0) - 1 and (
            rng.random() < self.react
        ):
            return {"type": "react", "answer_id": rng.choice(options), "emoji": "😂"}
        if phase == "vote" and "my_vote" not in mine:
            return {"type": "vote", "answer_id": rng.choice(options)}
        if phase == "final_vote" and "my_votes" not in mine:
            return {"type": "final_vote", "answer_ids": [rng.choice(options) for _ in range(3)]}
        return None
