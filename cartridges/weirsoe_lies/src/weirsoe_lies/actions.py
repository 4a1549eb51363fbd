"""Player actions, a tagged union on ``type``."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["Guess", "LieForMe", "LiesAction", "React", "SubmitLie"]

Id = Annotated[str, msgspec.Meta(max_length=64)]


class SubmitLie(
    msgspec.Struct, tag_field="type", tag="lie", frozen=True, forbid_unknown_fields=True
):
    """Lie phase: your lie for the prompt (at most the view's ``max_length`` characters once
    cleaned). Sending again replaces it."""

    text: Annotated[str, msgspec.Meta(max_length=2000)]


class LieForMe(
    msgspec.Struct, tag_field="type", tag="lie_for_me", frozen=True, forbid_unknown_fields=True
):
    """Lie phase: let the game pick a lie for you instead of writing one. It counts as your
    answer, not a house lie: whoever picks it earns you half the points, and pays no house-lie
    penalty."""


class Guess(msgspec.Struct, tag_field="type", tag="guess", frozen=True, forbid_unknown_fields=True):
    """Guess phase: the answer you think is the truth (never your own lie). Final."""

    answer_id: Id


class React(msgspec.Struct, tag_field="type", tag="react", frozen=True, forbid_unknown_fields=True):
    """Guess and reveal phases: react to an answer with one of the view's ``emoji``, up to
    ``reaction_cap`` times a phase. A reaction to your own lie is accepted (and uses one of
    your reactions) but does not count towards the awards."""

    answer_id: Id
    emoji: Annotated[str, msgspec.Meta(max_length=16)]


LiesAction = SubmitLie | LieForMe | Guess | React
