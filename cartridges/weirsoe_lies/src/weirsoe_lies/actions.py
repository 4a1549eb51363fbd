"""Player actions, a tagged union on ``type``."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["Guess", "LieForMe", "LiesAction", "React", "SubmitLie"]

Id = Annotated[str, msgspec.Meta(max_length=64)]


class SubmitLie(msgspec.Struct, tag_field="type", tag="lie", frozen=True):
    text: Annotated[str, msgspec.Meta(max_length=2000)]


class LieForMe(msgspec.Struct, tag_field="type", tag="lie_for_me", frozen=True):
    pass


class Guess(msgspec.Struct, tag_field="type", tag="guess", frozen=True):
    answer_id: Id


class React(msgspec.Struct, tag_field="type", tag="react", frozen=True):
    answer_id: Id
    emoji: Annotated[str, msgspec.Meta(max_length=16)]


LiesAction = SubmitLie | LieForMe | Guess | React
