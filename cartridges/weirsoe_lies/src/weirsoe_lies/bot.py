"""A bot that plays Weirsøe Lies from its own view, for the harness and load tests."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["LiesBot"]


class LiesBot:
    """Writes traceable lies, sometimes asks for one, sometimes stays silent; guesses at random
    among the answers that are not its own; reacts now and then."""

    def __init__(
        self,
        *,
        silent: float = 0.1,
        lie_for_me: float = 0.2,
        react: float = 0.3,
        phases: frozenset[str] = frozenset({"lie", "guess"}),
    ) -> None:
        self.phases = phases
        self.silent = silent
        self.lie_for_me = lie_for_me
        self.react = react

    def act(
        self, view: Mapping[str, Any], me: str, rng: random.Random, canary: Callable[[], str]
    ) -> Mapping[str, Any] | None:
        phase = view.get("phase")
        mine = view.get("me") or {}
        if phase == "lie" and mine.get("lie") is None:
            mood = self._mood(view, me)
            if mood < self.silent:
                return None
            if mood < self.silent + self.lie_for_me:
                return {"type": "lie_for_me"}
            return {"type": "lie", "text": canary()}
        if phase in ("guess", "reveal"):
            options = [a["id"] for a in view.get("answers", []) if a["id"] != mine.get("yours")]
            left = mine.get("reactions_left", 0)
            cap = view.get("reaction_cap", 0)
            if options and left > cap - 2 and rng.random() < self.react:
                return {
                    "type": "react",
                    "answer_id": rng.choice(options),
                    "emoji": rng.choice(view["emoji"]),
                }
            if (
                phase == "guess"
                and mine.get("guess") is None
                and self._mood(view, me) >= self.silent / 2
                and options
            ):
                return {"type": "guess", "answer_id": rng.choice(options)}
        return None

    @staticmethod
    def _mood(view: Mapping[str, Any], me: str) -> float:
        """Whether this bot sits out this phase is fixed per phase, so it is asked again safely
        (worked out only when it matters: most calls find nothing to do)."""
        return zlib.crc32(f"{me}:{view.get('question')}:{view.get('phase')}".encode()) / 2**32
